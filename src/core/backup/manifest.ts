import { posix } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** `manifest.json` of a snapshot directory (13 §4). */

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT_VERSION = 1;

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ManifestSchema = Type.Object(
  {
    format_version: Type.Literal(FORMAT_VERSION),
    agnes_version: Type.String(),
    schema_version: Type.Integer({ minimum: 1 }),
    dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
    created_at: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }),
    tables: Type.Record(
      Type.String({ pattern: '^[a-z_][a-z0-9_]*$' }),
      Type.Object({ rows: Type.Integer({ minimum: 0 }), sha256: Sha256 }, { additionalProperties: false }),
    ),
    files: Type.Array(
      Type.Object(
        { path: Type.String(), size: Type.Integer({ minimum: 0 }), sha256: Sha256 },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;
export type ManifestFile = Manifest['files'][number];
export type Dialect = Manifest['dialect'];

/** A snapshot that cannot be written, or that restore refuses; the message names the failing part. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export function tableFile(table: string): string {
  return `state/${table}.ndjson`;
}

/** The only top-level folders a snapshot's other files live in. */
const FILE_ROOTS = new Set(['config', 'secrets', 'extracts']);

/** Why a listed path may not be restored (absolute, `..`, outside the known folders), or null. */
export function pathProblem(path: string): string | null {
  if (path.startsWith('/') || path.includes('\\')) return 'is not a relative POSIX path';
  if (posix.normalize(path) !== path || path.split('/').some((part) => part === '..' || part === ''))
    return 'is not a normalised path inside the snapshot';
  if (!FILE_ROOTS.has(path.split('/')[0]!)) return 'is outside config/, secrets/ and extracts/';
  return null;
}

export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackupError(`${MANIFEST_FILE}: not valid JSON`);
  }
  if (!Value.Check(ManifestSchema, value)) {
    const first = Value.Errors(ManifestSchema, value).First();
    throw new BackupError(
      `${MANIFEST_FILE}: ${first ? `${first.path || '/'} ${first.message}` : 'not a snapshot manifest'}`,
    );
  }
  for (const file of value.files) {
    const problem = pathProblem(file.path);
    if (problem) throw new BackupError(`${MANIFEST_FILE}: file ${JSON.stringify(file.path)} ${problem}`);
  }
  return value;
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
