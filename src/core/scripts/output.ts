import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * The output contract of a notification script (08 §6): its stdout is one JSON object saying
 * whether to notify and what. Anything else is an `output_error` and nothing is sent.
 */

export const COOLDOWN_MS = {
  '30m': 30 * 60_000,
  '1h': 60 * 60_000,
  '6h': 6 * 60 * 60_000,
  '1d': 24 * 60 * 60_000,
} as const;

export type Cooldown = keyof typeof COOLDOWN_MS;

const ScriptOutputSchema = Type.Object(
  {
    notify: Type.Boolean(),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    message: Type.Optional(Type.String({ maxLength: 3500 })),
    cooldown: Type.Optional(Type.Union(Object.keys(COOLDOWN_MS).map((key) => Type.Literal(key)))),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type ScriptOutput = Omit<Static<typeof ScriptOutputSchema>, 'cooldown'> & { cooldown?: Cooldown };

export type OutputError = 'not_json' | 'invalid_shape';

export type ParsedOutput = { output: ScriptOutput; error: null } | { output: null; error: OutputError };

export function parseScriptOutput(stdout: string): ParsedOutput {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return { output: null, error: 'not_json' };
  }
  if (!Value.Check(ScriptOutputSchema, value)) return { output: null, error: 'invalid_shape' };
  const output = value as ScriptOutput;
  // A notification without a message would be an empty inbox entry.
  if (output.notify && (output.message === undefined || output.message.trim() === ''))
    return { output: null, error: 'invalid_shape' };
  return { output, error: null };
}
