import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { FILE_MODE } from '../../../core/fs/atomic.js';
import type { TableSpec } from './table-spec.js';

/** Rows are buffered as text and written in chunks of about this many characters. */
const CHUNK_CHARS = 1 << 16;

/**
 * Streams one table's rows into a CSV file, so memory stays flat whatever the size. Callers add
 * rows synchronously and `if (sink.full) await sink.flush()` in their loop: awaiting only when a
 * chunk is due keeps promise churn out of the per-row path.
 */
export class CsvSink {
  rows = 0;
  private buffer: string;

  private constructor(
    readonly spec: TableSpec,
    readonly path: string,
    private readonly handle: FileHandle,
  ) {
    this.buffer = `${Object.keys(spec.columns).join(',')}\n`;
  }

  static async create(spec: TableSpec, path: string): Promise<CsvSink> {
    return new CsvSink(spec, path, await open(path, 'wx', FILE_MODE));
  }

  /** One row of already formatted cells (see csv-cells.ts), in column order. */
  row(cells: readonly string[]): void {
    this.buffer += `${cells.join(',')}\n`;
    this.rows += 1;
  }

  get full(): boolean {
    return this.buffer.length >= CHUNK_CHARS;
  }

  /** Writes what is left and closes; `durable` adds an fsync for files that are published as they are. */
  async close(durable: boolean): Promise<void> {
    try {
      await this.flush();
      if (durable) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  /** Closes without writing the rest, after a failure; the caller removes the file. */
  async abandon(): Promise<void> {
    this.buffer = '';
    await this.handle.close().catch(() => undefined);
  }

  async flush(): Promise<void> {
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    // writeFile loops until every byte is written, unlike a single write().
    await this.handle.writeFile(chunk);
  }
}
