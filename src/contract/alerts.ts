import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, Timestamp } from './common.js';
import { QueryResultSchema } from './query.js';

/** Declarative SQL alerts (03 §16, 08 §7): a query, a condition on its result, a message and a schedule. */

export const AlertOperatorSchema = Type.Union([
  Type.Literal('>'),
  Type.Literal('>='),
  Type.Literal('<'),
  Type.Literal('<='),
  Type.Literal('=='),
  Type.Literal('!='),
]);
export type AlertOperator = Static<typeof AlertOperatorSchema>;

export const AlertConditionSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('row_count'), Type.Literal('first_value')]),
    op: AlertOperatorSchema,
    threshold: Type.Union([Type.Number(), Type.String({ maxLength: 1000 })], {
      description: 'A number, or a string compared with == and != only',
    }),
    column: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'first_value: default the first column' }),
    ),
  },
  { additionalProperties: false },
);
export type AlertCondition = Static<typeof AlertConditionSchema>;

export const AlertChannelSchema = Type.Union([Type.Literal('telegram'), Type.Literal('websocket')]);
export type AlertChannel = Static<typeof AlertChannelSchema>;

export const SqlAlertSchema = Type.Object({
  id: Type.String(),
  owner_id: Type.String(),
  name: Type.String(),
  sql: Type.String(),
  condition: AlertConditionSchema,
  message_template: Type.String(),
  schedule: Type.String(),
  channels: Type.Array(AlertChannelSchema),
  cooldown_minutes: Type.Integer(),
  enabled: Type.Boolean(),
  last_run_at: NullableTimestamp,
  last_status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Null()]),
  last_error: NullableString,
  last_fired_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type SqlAlert = Static<typeof SqlAlertSchema>;

export const AlertListSchema = Type.Object({ alerts: Type.Array(SqlAlertSchema), count: Type.Integer() });
export type AlertList = Static<typeof AlertListSchema>;

const writable = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  sql: Type.String({ minLength: 1 }),
  condition: AlertConditionSchema,
  message_template: Type.String({ maxLength: 2000 }),
  schedule: Type.String({ minLength: 1, maxLength: 200 }),
  channels: Type.Array(AlertChannelSchema, { uniqueItems: true, maxItems: 2 }),
  cooldown_minutes: Type.Integer({ minimum: 0, maximum: 10_080 }),
  enabled: Type.Boolean(),
};

export const CreateAlertSchema = Type.Object(
  {
    name: writable.name,
    sql: writable.sql,
    condition: writable.condition,
    message_template: writable.message_template,
    schedule: writable.schedule,
    channels: writable.channels,
    cooldown_minutes: Type.Optional({ ...writable.cooldown_minutes, default: 60 }),
    enabled: Type.Optional({ ...writable.enabled, default: true }),
  },
  { additionalProperties: false },
);
export type CreateAlert = Static<typeof CreateAlertSchema>;

export const PatchAlertSchema = Type.Partial(Type.Object(writable), { additionalProperties: false });
export type PatchAlert = Static<typeof PatchAlertSchema>;

export const AlertTestRequestSchema = Type.Object(
  { deliver: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

export const AlertTestResultSchema = Type.Object({
  fired: Type.Boolean(),
  row_count: Type.Integer(),
  value: Type.Unknown({
    description: 'The compared value: the row count, or the first value (05 §6 encoding)',
  }),
  message: Type.String({ description: 'The rendered message, plain text' }),
  preview: QueryResultSchema,
  notification_id: Type.Union([Type.String(), Type.Null()], {
    description: 'Set when `deliver` was true and the condition held',
  }),
});
export type AlertTestResult = Static<typeof AlertTestResultSchema>;

export const AlertRunResultSchema = Type.Object({
  fired: Type.Boolean(),
  suppressed_by_cooldown: Type.Boolean(),
  notification_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  error: Type.Union([Type.String(), Type.Null()], { description: 'What failed, when status is error' }),
});
export type AlertRunResult = Static<typeof AlertRunResultSchema>;
