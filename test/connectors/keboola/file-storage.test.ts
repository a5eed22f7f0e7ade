import { describe, expect, it } from 'vitest';
import {
  FileStorageError,
  type StorageFile,
  sliceRequest,
} from '../../../src/connectors/keboola/file-storage.js';

const STACK = 'https://connection.keboola.com';

const aws = (bucket: string): StorageFile => ({
  id: 1,
  url: 'https://example.invalid/manifest',
  isSliced: true,
  provider: 'aws',
  region: 'eu-central-1',
  credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'session' },
  s3Path: { bucket, key: 'exp/1.csv.gzmanifest' },
});

describe('sliceRequest: where a slice is fetched from in production', () => {
  it('S3: virtual-hosted in the file region, SigV4-signed with the session token', async () => {
    const request = await sliceRequest(
      aws('kbc-sapi-files'),
      's3://kbc-sapi-files/exp/1.csv.gz0000_part_00',
      STACK,
    );
    expect(request.url).toBe('https://kbc-sapi-files.s3.eu-central-1.amazonaws.com/exp/1.csv.gz0000_part_00');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/eu-central-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers['x-amz-security-token']).toBe('session');
  });

  it('S3: a bucket name with dots is addressed path-style (TLS wildcards do not cover it)', async () => {
    const request = await sliceRequest(aws('kbc.files.eu'), 's3://kbc.files.eu/exp/1.gz', STACK);
    expect(request.url).toBe('https://s3.eu-central-1.amazonaws.com/kbc.files.eu/exp/1.gz');
  });

  it('GCS: the storage host with the file access token', async () => {
    const file: StorageFile = {
      id: 2,
      url: 'https://storage.googleapis.com/signed',
      isSliced: true,
      gcsCredentials: { access_token: 'ya29.token' },
      gcsPath: { bucket: 'kbc-gcs', key: 'exp/2' },
    };
    expect(await sliceRequest(file, 'gs://kbc-gcs/exp/2/part-0.gz', STACK)).toEqual({
      url: 'https://storage.googleapis.com/kbc-gcs/exp/2/part-0.gz',
      headers: { authorization: 'Bearer ya29.token' },
    });
  });

  it('Azure: the blob endpoint with the file SAS, only on that endpoint', async () => {
    const file: StorageFile = {
      id: 3,
      url: 'https://acct.blob.core.windows.net/c/manifest?sig=x',
      isSliced: true,
      absCredentials: {
        SASConnectionString:
          'BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=1&sig=abc',
      },
    };
    expect(await sliceRequest(file, 'azure://acct.blob.core.windows.net/c/3/part-0.gz', STACK)).toEqual({
      url: 'https://acct.blob.core.windows.net/c/3/part-0.gz?sv=1&sig=abc',
      headers: {},
    });
    await expect(
      sliceRequest(file, 'azure://other.blob.core.windows.net/c/3/part-0.gz', STACK),
    ).rejects.toThrow(FileStorageError);
  });

  it('signed HTTPS URLs pass as they are; plain HTTP only on the stack origin', async () => {
    expect(await sliceRequest(aws('b'), 'https://b.s3.amazonaws.com/k?X-Amz-Signature=1', STACK)).toEqual({
      url: 'https://b.s3.amazonaws.com/k?X-Amz-Signature=1',
      headers: {},
    });
    await expect(sliceRequest(aws('b'), 'http://169.254.169.254/latest/meta-data', STACK)).rejects.toThrow(
      /scheme http: is not supported/,
    );
  });

  it('refuses an S3 slice without the file credentials', async () => {
    const file = { ...aws('b'), credentials: {} };
    await expect(sliceRequest(file, 's3://b/k', STACK)).rejects.toThrow(/without the file credentials/);
  });
});
