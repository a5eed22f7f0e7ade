import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** A JSON Schema with an object at its root; TypeBox schemas are ones. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface ExtractJsonRequest {
  system: string;
  prompt: string;
  /** What the answer must match; both providers need an object at the root. */
  schema: JsonSchema;
  /** Names the tool (Anthropic) or the response format (OpenAI): letters, digits, `_` and `-`. */
  schemaName: string;
  maxTokens: number;
}

/** Null when `value` matches, otherwise where and how it does not (no values from it). */
export type OutputCheck = (value: unknown) => string | null;

const ajv = new Ajv({ allErrors: false, strict: false });
addFormats.default(ajv);
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * Refuses a malformed request before any token is spent, and compiles its schema once per schema
 * object. These are the caller's mistakes, so they are plain errors, not LLM errors.
 */
export function checkRequest(request: ExtractJsonRequest): OutputCheck {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(request.schemaName))
    throw new TypeError('schemaName must be 1–64 letters, digits, "_" or "-"');
  if (request.schema.type !== 'object') throw new TypeError('the schema must have an object at its root');
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)
    throw new TypeError('maxTokens must be a positive integer');
  let validate = compiled.get(request.schema);
  if (!validate) {
    validate = ajv.compile(request.schema);
    compiled.set(request.schema, validate);
  }
  const check = validate;
  return (value) => {
    if (check(value)) return null;
    const first = check.errors?.[0];
    return first ? `${first.instancePath || '(root)'} ${first.message ?? 'is invalid'}` : 'is invalid';
  };
}
