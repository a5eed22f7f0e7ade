import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckSession, openDuck, queryOne, toNumber } from '../../../core/duckdb/engine.js';
import { quoteLiteral } from '../../../core/duckdb/sql.js';
import { PARQUET_COPY_OPTIONS } from '../../../core/extract/contract.js';
import { FILE_MODE, fsyncFile, publishFile, tempPathFor } from '../../../core/fs/atomic.js';
import { CsvSink } from './csv-sink.js';
import { SAMPLE_TABLES, type SampleTable, type TableSpec } from './table-spec.js';

export const SAMPLE_FORMATS = ['parquet', 'csv'] as const;
export type SampleFormat = (typeof SAMPLE_FORMATS)[number];

export interface PublishedTable {
  table: SampleTable;
  path: string;
  rows: number;
}

/**
 * Turns each table's CSV stream into its published file. Rows are always generated as CSV; for
 * Parquet, DuckDB converts the finished CSV while the next table is being generated, so the two
 * cores work in parallel. Every file goes through `<final>.tmp-<random>` and a rename.
 */
export class SampleWriter {
  private readonly temps = new Set<string>();
  private readonly open = new Set<CsvSink>();
  private readonly published = new Map<SampleTable, PublishedTable>();
  /** Conversions run one at a time on the single DuckDB connection, in commit order. */
  private conversions: Promise<void> = Promise.resolve();

  private constructor(
    private readonly outDir: string,
    private readonly format: SampleFormat,
    private readonly duck: DuckSession | null,
  ) {}

  static async open(outDir: string, format: SampleFormat): Promise<SampleWriter> {
    await mkdir(outDir, { recursive: true });
    // One thread: DuckDB's Parquet output is byte-identical for identical input only then.
    const duck = format === 'parquet' ? await openDuck(':memory:', { threads: 1 }) : null;
    return new SampleWriter(outDir, format, duck);
  }

  async begin(spec: TableSpec): Promise<CsvSink> {
    const temp = tempPathFor(this.finalPath(spec.name, 'csv'));
    this.temps.add(temp);
    const sink = await CsvSink.create(spec, temp);
    this.open.add(sink);
    return sink;
  }

  /** Publishes a finished table: at once for CSV, after a queued conversion for Parquet. */
  async commit(sink: CsvSink): Promise<void> {
    this.open.delete(sink);
    if (this.format === 'csv') {
      await sink.close(true);
      await this.publish(sink, sink.path);
      return;
    }
    await sink.close(false);
    this.conversions = this.conversions.then(() => this.convert(sink));
    // Marks the chain handled now; the failure itself surfaces from finish().
    this.conversions.catch(() => undefined);
  }

  /** Waits for pending conversions; returns each table's file and row count, in manifest order. */
  async finish(): Promise<PublishedTable[]> {
    try {
      await this.conversions;
    } finally {
      this.duck?.close();
    }
    return SAMPLE_TABLES.map((table) => {
      const published = this.published.get(table);
      if (published === undefined) throw new Error(`table ${table} was not written`);
      return published;
    });
  }

  /** After a failure: lets running work settle, then removes every temp file left. */
  async abort(): Promise<void> {
    await Promise.all([...this.open].map((sink) => sink.abandon()));
    await this.conversions.catch(() => undefined);
    this.duck?.close();
    await Promise.all([...this.temps].map((temp) => rm(temp, { force: true })));
  }

  private async convert(sink: CsvSink): Promise<void> {
    const conn = this.duck!.conn;
    const temp = tempPathFor(this.finalPath(sink.spec.name, 'parquet'));
    this.temps.add(temp);
    const columns = Object.entries(sink.spec.columns)
      .map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`)
      .join(', ');
    // Explicit types and no sniffing; a serial reader hands the writer full vectors, which keeps
    // row groups at exactly 122,880 rows.
    const read = `read_csv(${quoteLiteral(sink.path)}, columns = {${columns}}, header = true, auto_detect = false,
      delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, parallel = false)`;
    await conn.run(`COPY (SELECT * FROM ${read}) TO ${quoteLiteral(temp)} (${PARQUET_COPY_OPTIONS})`);
    const written = await queryOne(conn, `SELECT num_rows FROM parquet_file_metadata(${quoteLiteral(temp)})`);
    if (toNumber(written?.num_rows) !== sink.rows) {
      throw new Error(
        `${sink.spec.name}: Parquet holds ${String(written?.num_rows)} rows, expected ${sink.rows}`,
      );
    }
    // DuckDB creates files with the process umask; CSV output and the manifest use FILE_MODE.
    await chmod(temp, FILE_MODE);
    await fsyncFile(temp);
    await this.publish(sink, temp);
    await rm(sink.path, { force: true });
    this.temps.delete(sink.path);
  }

  private async publish(sink: CsvSink, temp: string): Promise<void> {
    const table = sink.spec.name;
    const final = this.finalPath(table, this.format);
    await publishFile(temp, final);
    this.temps.delete(temp);
    this.published.set(table, { table, path: final, rows: sink.rows });
    // A file of the other format from an earlier run would clash with this one in the local connector.
    await rm(this.finalPath(table, this.format === 'csv' ? 'parquet' : 'csv'), { force: true });
  }

  private finalPath(table: SampleTable, format: SampleFormat): string {
    return join(this.outDir, `${table}.${format}`);
  }
}
