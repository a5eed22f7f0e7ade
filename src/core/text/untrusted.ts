/**
 * One line of untrusted upstream text (07 §0: error messages, descriptions): control characters
 * become a space, the ends are trimmed, and at most `max` characters are kept.
 */
export function untrustedLine(text: string, max: number): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .slice(0, max)
  );
}
