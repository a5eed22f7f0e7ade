import type { ToolName } from '../../contract/index.js';
import type { Role } from '../state/schema.js';

/** What an agent is told about each tool (14 §1), and who may call it. */
export interface ToolDefinition {
  name: ToolName;
  title: string;
  description: string;
  /** Checked against the caller's current role on every call. */
  minimumRole: Role | null;
}

export function toolDefinitions(options: { defaultLimit: number; maxResultChars: number }): ToolDefinition[] {
  const size = `about ${options.maxResultChars.toLocaleString('en-US')} characters`;
  return [
    {
      name: 'list_tables',
      title: 'List tables',
      description:
        'The tables you may read, with dataset, row count and query mode. With include_locked, also the tables you may discover but not read (locked: true), so you can ask for access with request_access.',
      minimumRole: null,
    },
    {
      name: 'describe_table',
      title: 'Describe a table',
      description:
        'Columns of one table you may read: name, type, description and, when the table has been profiled, null percentage, distinct values, minimum and maximum.',
      minimumRole: null,
    },
    {
      name: 'query',
      title: 'Run SQL',
      description: `Run one read-only SELECT (DuckDB SQL) over the tables you may read, named by their ids. Returns at most limit rows (default ${options.defaultLimit}) rendered as markdown, csv or json, cut at ${size}; a last line says when anything was cut. Aggregate in SQL rather than fetching many rows.`,
      minimumRole: 'analyst',
    },
    {
      name: 'sample_rows',
      title: 'Sample rows',
      description:
        'The first rows of a table you may read (1-100, default 10), to see what its values look like.',
      minimumRole: 'analyst',
    },
    {
      name: 'request_access',
      title: 'Request access',
      description:
        'Ask the administrators for read access to a locked table (see list_tables with include_locked), with an optional reason; they approve or deny it.',
      minimumRole: null,
    },
    {
      name: 'search_memory',
      title: 'Search corporate memory',
      description:
        "Search the organisation's curated knowledge (definitions, caveats, how-tos about the data) by words in titles and content.",
      minimumRole: null,
    },
  ];
}
