import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { ConfigCheck, ConfiguredSource, ConnectorConfig } from '../../core/extract/connector.js';

/** `data_sources.local` (11 §2.4): a list of directories, each one source. */
const LocalSource = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    path: Type.String({ minLength: 1 }),
    csv: Type.Object(
      {
        delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
        header: Type.Boolean({ default: true }),
        encoding: Type.String({ default: 'utf-8' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

const LocalSection = Type.Array(LocalSource, { default: [] });
type LocalSection = Static<typeof LocalSection>;

const key = (i: number) => `data_sources.local[${i}]`;

export const localConfig: ConnectorConfig = {
  key: 'local',
  schema: LocalSection,
  sources(section: unknown, cwd: string): ConfiguredSource[] {
    return (section as LocalSection).map((source, i) => ({
      name: source.name,
      type: 'local',
      config: { path: resolve(cwd, source.path), csv: source.csv },
      key: key(i),
    }));
  },
  check(section: unknown, cwd: string): ConfigCheck {
    // A missing directory is a warning: it may be mounted after startup, and then syncs start to work.
    const warnings = (section as LocalSection).flatMap((source, i) => {
      const path = resolve(cwd, source.path);
      return existsSync(path) && statSync(path).isDirectory()
        ? []
        : [`${key(i)}.path: ${source.name}: directory does not exist`];
    });
    return { problems: [], warnings };
  },
};
