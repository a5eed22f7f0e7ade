import { AwsClient } from 'aws4fetch';

/**
 * A file as `GET /v2/storage/files/{id}?federationToken=1` describes it (07 §3.1): the signed
 * `url` of the file or its slice manifest, and the provider's temporary credentials for the
 * slices the manifest lists as `s3://`, `gs://` or `azure://` URLs.
 */
export interface StorageFile {
  id: number | string;
  url: string;
  isSliced: boolean;
  provider?: string;
  region?: string;
  credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string };
  s3Path?: { bucket?: string; key?: string };
  gcsCredentials?: { access_token?: string };
  gcsPath?: { bucket?: string; key?: string };
  absCredentials?: { SASConnectionString?: string };
}

/**
 * Base URLs standing in for the providers' endpoints (path-style: `<base>/<bucket>/<key>`); tests
 * point them at a loopback fake, production leaves them unset.
 */
export interface ObjectStoreEndpoints {
  s3?: string;
  gcs?: string;
  azure?: string;
}

/** What to fetch for one slice: the HTTPS URL and the headers that authorise it. */
export interface SliceRequest {
  url: string;
  headers: Record<string, string>;
}

/** The slice cannot be fetched: its URL or the file's credentials are not usable. */
export class FileStorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileStorageError';
  }
}

/**
 * The request for one file-storage URL of `file`. HTTPS URLs are signed already and fetched as
 * they are; plain HTTP only on the stack's own origin. Object-store URLs are fetched from their
 * provider with the file's own credentials, and only inside the file's own bucket or blob
 * endpoint (07 §0: payload URLs never steer credentials to another host).
 */
export async function sliceRequest(
  file: StorageFile,
  raw: string,
  stackOrigin: string,
  endpoints: ObjectStoreEndpoints = {},
): Promise<SliceRequest> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FileStorageError('file URL is not a URL');
  }
  if (url.protocol === 'https:' || url.origin === stackOrigin) return { url: url.href, headers: {} };
  if (url.protocol === 's3:') return s3Request(file, url, endpoints.s3);
  if (url.protocol === 'gs:') return gcsRequest(file, url, endpoints.gcs);
  if (url.protocol === 'azure:') return azureRequest(file, url, endpoints.azure);
  throw new FileStorageError(`file storage scheme ${url.protocol} is not supported`);
}

function sameBucket(url: URL, expected: string | undefined, provider: string): string {
  const bucket = url.hostname;
  if (!bucket || !url.pathname || url.pathname === '/')
    throw new FileStorageError(`${provider} slice URL names no object`);
  if (expected !== undefined && bucket !== expected)
    throw new FileStorageError(`${provider} slice is outside the file's bucket`);
  return bucket;
}

async function s3Request(file: StorageFile, url: URL, endpoint: string | undefined): Promise<SliceRequest> {
  const bucket = sameBucket(url, file.s3Path?.bucket, 'S3');
  const { AccessKeyId, SecretAccessKey, SessionToken } = file.credentials ?? {};
  const region = file.region;
  if (!AccessKeyId || !SecretAccessKey || !region)
    throw new FileStorageError('S3 slice without the file credentials or region');
  // Virtual-hosted addressing, except for bucket names with dots, which TLS wildcards do not cover.
  const target = endpoint
    ? `${endpoint}/${bucket}${url.pathname}`
    : bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${bucket}${url.pathname}`
      : `https://${bucket}.s3.${region}.amazonaws.com${url.pathname}`;
  const client = new AwsClient({
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(SessionToken ? { sessionToken: SessionToken } : {}),
    service: 's3',
    region,
  });
  const signed = await client.sign(target, { method: 'GET' });
  const headers: Record<string, string> = {};
  signed.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { url: signed.url, headers };
}

function gcsRequest(file: StorageFile, url: URL, endpoint: string | undefined): SliceRequest {
  const bucket = sameBucket(url, file.gcsPath?.bucket, 'GCS');
  const token = file.gcsCredentials?.access_token;
  if (!token) throw new FileStorageError('GCS slice without the file access token');
  const base = endpoint ?? 'https://storage.googleapis.com';
  return { url: `${base}/${bucket}${url.pathname}`, headers: { authorization: `Bearer ${token}` } };
}

/** `BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=…` → its two parts. */
function parseSasConnection(text: string | undefined): { host: string; sas: string } | null {
  if (!text) return null;
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const endpoint = parts.get('BlobEndpoint');
  const sas = parts.get('SharedAccessSignature');
  if (!endpoint || !sas) return null;
  try {
    return { host: new URL(endpoint).host, sas: sas.replace(/^\?/, '') };
  } catch {
    return null;
  }
}

function azureRequest(file: StorageFile, url: URL, endpoint: string | undefined): SliceRequest {
  const connection = parseSasConnection(file.absCredentials?.SASConnectionString);
  if (!connection) throw new FileStorageError('Azure slice without the file SAS connection string');
  if (url.host !== connection.host)
    throw new FileStorageError("Azure slice is outside the file's blob endpoint");
  if (!url.pathname || url.pathname === '/') throw new FileStorageError('Azure slice URL names no blob');
  const base = endpoint ?? `https://${connection.host}`;
  return { url: `${base}${url.pathname}?${connection.sas}`, headers: {} };
}
