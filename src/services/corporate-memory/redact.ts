/**
 * The deterministic secret patterns of 08 §4.3. They run over the notes before anything is sent
 * to the LLM (matches become `[redacted]`) and over every extracted item afterwards (a match drops
 * the item). Some are a little wider than the spec's list — case-insensitive schemes and keys, a
 * quoted `"password": …` key, a private key block cut short — because redacting too much costs
 * a note's detail while redacting too little leaks a credential.
 */
const PATTERNS: readonly RegExp[] = [
  /agnes_pat_[A-Za-z0-9_-]{20,}/g,
  /gh[pousr]_[A-Za-z0-9]{20,}/g,
  /github_pat_\w{20,}/g,
  /xox[abprs]-[A-Za-z0-9-]{10,}/g,
  /(?:AKIA|ASIA)[0-9A-Z]{16}/g,
  /aws_secret_access_key["']?\s*[=:]\s*\S+/gi,
  // The whole key block; a block whose END line is missing runs to the end of the text.
  /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*$)/g,
  /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/g,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@]+@/gi,
  /\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key)\b["']?\s*[=:]\s*\S+/gi,
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
];

export const REDACTED = '[redacted]';

/** `text` with every pattern match replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

/** Whether any pattern matches: such an item is dropped, never stored redacted. */
export function containsSecret(text: string): boolean {
  return PATTERNS.some((pattern) => {
    pattern.lastIndex = 0;
    return pattern.test(text);
  });
}
