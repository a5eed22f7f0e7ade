import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, Timestamp } from './common.js';

/** Admin notification scripts (03 §15, 08 §6): deploy, list, run, delete. */

export const ScriptRuntimeSchema = Type.Union([Type.Literal('node'), Type.Literal('python')]);

const ScriptName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' });
const TimeoutSeconds = Type.Integer({
  minimum: 1,
  description: 'Default 60; at most scripts.timeout_seconds',
});

export const ScriptSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner: NullableString,
  runtime: ScriptRuntimeSchema,
  schedule: NullableString,
  recipients: Type.Array(Type.String(), { description: 'User ids and group:<id>' }),
  enabled: Type.Boolean(),
  timeout_seconds: Type.Integer(),
  source: Type.String(),
  deployed_at: Timestamp,
  updated_at: Timestamp,
  last_run: NullableTimestamp,
  last_status: Type.Union([
    Type.Literal('ok'),
    Type.Literal('error'),
    Type.Literal('timeout'),
    Type.Literal('refused'),
    Type.Null(),
  ]),
  last_duration_ms: Type.Union([Type.Integer(), Type.Null()]),
});
export type ScriptView = Static<typeof ScriptSchema>;

export const ScriptListSchema = Type.Object({ scripts: Type.Array(ScriptSchema), count: Type.Integer() });
export type ScriptList = Static<typeof ScriptListSchema>;

export const DeployScriptBody = Type.Object(
  {
    name: ScriptName,
    source: Type.String({ minLength: 1, description: 'At most scripts.max_source_bytes bytes' }),
    runtime: Type.Optional(ScriptRuntimeSchema),
    schedule: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
    recipients: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 120 }), {
        maxItems: 500,
        description: 'User ids and group:<id>; the deploying admin when left out',
      }),
    ),
    timeout_seconds: Type.Optional(TimeoutSeconds),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type DeployScriptInput = Static<typeof DeployScriptBody>;

export const DeployedScriptSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  schedule: NullableString,
  owner: NullableString,
  runtime: ScriptRuntimeSchema,
});
export type DeployedScript = Static<typeof DeployedScriptSchema>;

export const AdHocScriptBody = Type.Object(
  {
    name: Type.Optional(ScriptName),
    source: Type.String({ maxLength: 1_048_576 }),
    runtime: Type.Optional(ScriptRuntimeSchema),
    timeout_seconds: Type.Optional(TimeoutSeconds),
  },
  { additionalProperties: false },
);
export type AdHocScriptInput = Static<typeof AdHocScriptBody>;

export const RunResultSchema = Type.Object({
  name: Type.String(),
  exit_code: Type.Union([Type.Integer(), Type.Null()], { description: 'Null when the run was killed' }),
  stdout: Type.String(),
  stderr: Type.String(),
  truncated: Type.Boolean(),
  timed_out: Type.Boolean(),
  duration_ms: Type.Integer(),
  isolation: Type.Union([Type.Literal('bwrap'), Type.Literal('none')]),
  notification: Type.Union([
    Type.Object({ notify: Type.Boolean(), title: Type.String(), message: Type.String() }),
    Type.Null(),
  ]),
  output_error: Type.Union([Type.Literal('not_json'), Type.Literal('invalid_shape'), Type.Null()]),
});
export type RunResult = Static<typeof RunResultSchema>;
