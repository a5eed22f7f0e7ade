import { type Static, Type } from '@sinclair/typebox';

export const FieldErrorSchema = Type.Object({ path: Type.String(), message: Type.String() });
export type FieldError = Static<typeof FieldErrorSchema>;

/**
 * The body of every error response (03 §0.2). Some codes add fields about their object (`tables`
 * of `unknown_tables`, `status` of `not_pending`), hence `additionalProperties`.
 */
export const ErrorBodySchema = Type.Object(
  {
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { additionalProperties: true, $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;
