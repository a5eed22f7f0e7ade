import { dictionary } from '@zxcvbn-ts/language-common';

/** The 10,000 most common passwords, from zxcvbn's frequency-ordered list. */
const COMMON = new Set(dictionary['passwords-common'].slice(0, 10_000).map((p) => p.toLowerCase()));

export const MAX_PASSWORD_LENGTH = 256;

/**
 * Password policy (04 §1.2): length within [min, 256], not the email, not one repeated character,
 * not a common password. Returns the broken rule's message, or null.
 */
export function passwordProblem(
  password: string,
  options: { minLength: number; email?: string | null },
): string | null {
  if (password.length < options.minLength) return `password must be at least ${options.minLength} characters`;
  if (password.length > MAX_PASSWORD_LENGTH)
    return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (options.email && password.trim().toLowerCase() === options.email.trim().toLowerCase()) {
    return 'password must not be the email address';
  }
  if (/^(.)\1*$/su.test(password)) return 'password must not be a single repeated character';
  if (COMMON.has(password.toLowerCase())) return 'password is too common';
  return null;
}
