import { posix } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DATA_DIR_NAME, EXTRACT_FILE } from '../extract/contract.js';
import { isValidSourceName } from '../ids.js';

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

/** Files of `DATA_DIR/state` a snapshot carries when they exist: losing them logs everyone out. */
export const SECRET_FILES: readonly string[] = ['jwt-secret', 'policy-salt'];

export const CONFIG_FILE = 'config/instance.yaml';

/**
 * Why a listed path may not be restored, or null. Only the files a backup writes are accepted —
 * the config, the known secrets, and a source's extract and data files — so a manifest cannot
 * name a file outside the folder or place one anywhere in the target but where it belongs.
 */
export function pathProblem(path: string): string | null {
  const parts = path.split('/');
  if (posix.normalize(path) !== path || path.startsWith('/') || parts.some((p) => p === '..' || p === '.'))
    return 'is not a normalised relative path';
  if (path === CONFIG_FILE) return null;
  if (parts[0] === 'secrets')
    return parts.length === 2 && SECRET_FILES.includes(parts[1]!) ? null : 'is not a known secret file';
  if (parts[0] === 'extracts' && parts.length >= 3 && isValidSourceName(parts[1]!)) {
    if (parts.length === 3 && parts[2] === EXTRACT_FILE) return null;
    if (parts.length >= 4 && parts[2] === DATA_DIR_NAME) return null;
  }
  return 'is not a file a snapshot holds (config, secrets, extracts)';
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
