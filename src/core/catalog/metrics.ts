import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AgnesError } from '../errors.js';
import type { MetricFile } from '../profiler/index.js';

/**
 * Metric definitions under `DATA_DIR/docs/metrics/<category>/<name>.yml` (01 §4, 07 §6 OpenMetadata), read by
 * the catalog API and by the profiler (`used_by_metrics`). Paths are validated before anything
 * touches the disk; no symlink is followed, at any level below `DATA_DIR/docs`.
 */

/** `<category>/<name>.yml`, exactly one slash (03 §7 catalog). */
export const METRIC_PATH = /^[a-z0-9_-]{1,64}\/[a-z0-9_-]{1,64}\.yml$/;
const SEGMENT = /^[a-z0-9_-]{1,64}$/;
const FILE_NAME = /^[a-z0-9_-]{1,64}\.yml$/;

/**
 * A name from elsewhere (an OpenMetadata metric or category) → a path segment of
 * {@link METRIC_PATH}: lower-case, runs of other characters → `_`, at most 64 characters.
 * Null when nothing usable remains, so `..`, `/` or an empty name never reach a path.
 */
export function toMetricSegment(name: string): string | null {
  const segment = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, 64)
    .replace(/[_-]+$/, '');
  return SEGMENT.test(segment) ? segment : null;
}

/** Larger files are refused as invalid: a metric definition is a few hundred bytes. */
export const MAX_METRIC_BYTES = 256 * 1024;

export interface MetricDefinition {
  /** `<category>/<name>.yml`, relative to `docs/metrics`. */
  path: string;
  name: string;
  display_name: string;
  category: string;
  grain: string | null;
  /** Table ids from `table` and `tables`, deduplicated, in file order. */
  tables: string[];
  /** The whole document, as JSON. */
  document: Record<string, unknown>;
}

export function metricsDir(dataDir: string): string {
  return join(dataDir, 'docs', 'metrics');
}

const invalidPath = () => new AgnesError('invalid_metric_path', 'metric path must be <category>/<name>.yml');
const missing = () => new AgnesError('not_found', 'metric not found');
const invalid = () => new AgnesError('metric_invalid', 'metric definition is not valid');

/** True when `path` is a real directory; false when it is missing, a symlink or anything else. */
async function isRealDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** `docs` and `docs/metrics` must be real directories too: a symlink there could point anywhere. */
async function metricsRoot(dataDir: string): Promise<string | null> {
  const docs = join(dataDir, 'docs');
  const root = metricsDir(dataDir);
  return (await isRealDir(docs)) && (await isRealDir(root)) ? root : null;
}

/** Reads a regular file without following a symlink in its last component, up to the size cap. */
async function readRegularFile(path: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not hang the request.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    // ENOENT, ELOOP (a symlink), EACCES: the metric does not exist for the API.
    throw missing();
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw missing();
    if (stats.size > MAX_METRIC_BYTES) throw invalid();
    const buffer = Buffer.alloc(Math.min(stats.size, MAX_METRIC_BYTES) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_METRIC_BYTES) throw invalid();
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Parses a metric document; anything but a mapping with well-typed table references is invalid. */
export function parseMetric(path: string, text: string): MetricDefinition {
  let document: unknown;
  try {
    // `logLevel: 'silent'` would drop errors and return a best guess; 'error' throws on them.
    document = parse(text, { logLevel: 'error', maxAliasCount: 100, uniqueKeys: true });
  } catch {
    // The parser's message quotes the file: it never reaches a response.
    throw invalid();
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw invalid();
  const doc = document as Record<string, unknown>;
  const { table, tables } = doc;
  if (table !== undefined && table !== null && typeof table !== 'string') throw invalid();
  if (tables !== undefined && tables !== null && !isStringArray(tables)) throw invalid();
  const referenced = [...(typeof table === 'string' ? [table] : []), ...(tables ?? [])]
    .map((t) => t.trim())
    .filter(Boolean);
  const [category = '', file = ''] = path.split('/');
  const baseName = file.replace(/\.yml$/, '');
  const nonEmpty = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  const name = nonEmpty(doc.name) ?? baseName;
  return {
    path,
    name,
    display_name: nonEmpty(doc.display_name) ?? name,
    category: nonEmpty(doc.category) ?? category,
    grain: nonEmpty(doc.grain) ?? null,
    tables: [...new Set(referenced)],
    document: doc,
  };
}

/**
 * One metric by its API path. The path is checked against {@link METRIC_PATH} before the disk is
 * touched: 400 `invalid_metric_path`, 404 when missing (or reached only through a symlink),
 * 500 `metric_invalid` when it does not parse (without the parser's text).
 */
export async function readMetric(dataDir: string, path: string): Promise<MetricDefinition> {
  if (!METRIC_PATH.test(path)) throw invalidPath();
  const root = await metricsRoot(dataDir);
  if (!root) throw missing();
  const [category = '', file = ''] = path.split('/');
  const categoryDir = join(root, category);
  if (!(await isRealDir(categoryDir))) throw missing();
  return parseMetric(path, await readRegularFile(join(categoryDir, file)));
}

export interface MetricScan {
  metrics: MetricDefinition[];
  /** Paths of files that exist but do not parse. */
  invalid: string[];
}

/** Every metric file, sorted by path; symlinks and names outside the pattern are ignored. */
export async function listMetrics(dataDir: string): Promise<MetricScan> {
  const scan: MetricScan = { metrics: [], invalid: [] };
  const root = await metricsRoot(dataDir);
  if (!root) return scan;
  const categories = (await readdir(root, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && SEGMENT.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  for (const category of categories) {
    let entries: { name: string; isFile(): boolean }[];
    try {
      entries = await readdir(join(root, category), { withFileTypes: true });
    } catch {
      continue;
    }
    const files = entries
      .filter((entry) => entry.isFile() && FILE_NAME.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    for (const file of files) {
      const path = `${category}/${file}`;
      try {
        scan.metrics.push(await readMetric(dataDir, path));
      } catch (error) {
        // Removed meanwhile: skip. Unparseable: reported, never fatal for the others.
        if (error instanceof AgnesError && error.code === 'metric_invalid') scan.invalid.push(path);
      }
    }
  }
  return scan;
}

/** What the profiler needs for `used_by_metrics` (02 §7); never throws. */
export async function metricFiles(dataDir: string): Promise<MetricFile[]> {
  try {
    const { metrics } = await listMetrics(dataDir);
    return metrics.map((m) => ({ name: m.name, file: m.path, tables: m.tables }));
  } catch {
    return [];
  }
}
