import { badUserInput } from './app-error.ts';

/**
 * Input checks shared by the operators' mutations (upsertChatModel, upsertImageModel, …): each failure is
 * BAD_USER_INPUT with `extensions.field` naming the input field and a message saying what is allowed.
 */

/** A trimmed string of `min`…`max` characters (min default 1). */
export function requireText(value: string, field: string, max: number, min = 1): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length < min || text.length > max) throw badUserInput(`${field} must be ${min} to ${max} characters`, { field });
  return text;
}

/** An optional text: null/undefined/blank → null, else at most `max` characters. */
export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value == null || value.trim() === '') return null;
  return requireText(value, field, max);
}

/** A whole number from `min` to `max`. */
export function requireInt(value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw badUserInput(`${field} must be a whole number from ${min} to ${max}`, { field });
  return value;
}

/** An identifier an operator chooses (a model id): letters, digits, `.`, `_`, `-`, `:`, at most `max` characters. */
export function requireIdentifier(value: string, field: string, max = 64): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(value) || value.length > max) {
    throw badUserInput(`${field} must be 1 to ${max} letters, digits, '.', '_', ':' or '-', starting with a letter or digit`, { field });
  }
  return value;
}

/** The gateway's rule for a tenant id (gateway/src/modules/tenant.ts): lower-case letters, digits, '-', at most 63. */
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A tenant id as the gateway accepts one (x-tenant-id, createTenant), checked for its form only. */
export function requireTenantId(value: string, field = 'tenantId'): string {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    throw badUserInput(`${field} must be 1 to 63 lower-case letters, digits or -, starting with a letter or digit`, { field });
  }
  return value;
}
