import { badUserInput } from '@firefly/errors';
import { MAX_CREDITS } from './pricing.ts';

/** Longest id-like string the database columns take (VARCHAR(191)). */
const MAX_KEY_LENGTH = 191;

export function requireCredits(value: number, field: string, options: { allowZero: boolean }): number {
  const min = options.allowZero ? 0 : 1;
  if (!Number.isSafeInteger(value) || value < min || value > MAX_CREDITS) {
    throw badUserInput(`${field} must be a whole number from ${min} to ${MAX_CREDITS}`, { field });
  }
  return value;
}

export function requireKey(value: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_KEY_LENGTH) {
    throw badUserInput(`${field} must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`, { field });
  }
  return value;
}
