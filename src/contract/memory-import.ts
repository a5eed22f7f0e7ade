import { type Static, Type } from '@sinclair/typebox';

/**
 * The corporate-memory collector's submissions (03 §13 `POST /api/memory/admin/import`, 08 §4.1
 * step 8 and §4.3): candidate items with the users whose notes they came from. The server decides
 * status, deduplication and what may change; the collector only proposes.
 */

const strict = { additionalProperties: false } as const;

export const MEMORY_IMPORT_MAX_ITEMS = 100;

const UserId = Type.String({ format: 'uuid' });

export const MemoryImportItemSchema = Type.Object(
  {
    existing_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    content: Type.String({ minLength: 1, maxLength: 10_000 }),
    category: Type.String({ minLength: 1, maxLength: 64 }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 }),
    contributors: Type.Array(UserId, { maxItems: 100 }),
  },
  strict,
);
export type MemoryImportItem = Static<typeof MemoryImportItemSchema>;

export const MemoryImportRequestSchema = Type.Object(
  {
    run_id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    items: Type.Array(MemoryImportItemSchema, { minItems: 1, maxItems: MEMORY_IMPORT_MAX_ITEMS }),
  },
  strict,
);
export type MemoryImportRequest = Static<typeof MemoryImportRequestSchema>;

export const MemoryImportSkipReasonSchema = Type.Union([
  Type.Literal('unchanged'),
  Type.Literal('unknown_category'),
]);

export const MemoryImportResultSchema = Type.Object({
  created: Type.Array(Type.String()),
  updated: Type.Array(Type.String()),
  skipped: Type.Array(Type.Object({ index: Type.Integer(), reason: MemoryImportSkipReasonSchema })),
});
export type MemoryImportResult = Static<typeof MemoryImportResultSchema>;

/**
 * Which of the given user ids are existing, active users: the collector reads the uploads of
 * those only (08 §4.3 Inputs) and never opens the state store itself.
 */
export const MemoryContributorsRequestSchema = Type.Object(
  { user_ids: Type.Array(UserId, { minItems: 1, maxItems: 1000 }) },
  strict,
);
export type MemoryContributorsRequest = Static<typeof MemoryContributorsRequestSchema>;

export const MemoryContributorsResultSchema = Type.Object({ active: Type.Array(Type.String()) });
export type MemoryContributorsResult = Static<typeof MemoryContributorsResultSchema>;
