import { badUserInput } from '@firefly/errors';

/** Mainland mobile numbers, with or without +86 / 0086 / 86; stored as the bare 11 digits. */
const MAINLAND_MOBILE = /^(?:\+?86|0086)?(1[3-9]\d{9})$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{2,63}$/;

/** The 11-digit form of a mainland mobile number, or null when it is not one. Spaces and dashes are ignored. */
export function parsePhone(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '');
  return MAINLAND_MOBILE.exec(compact)?.[1] ?? null;
}

export function requirePhone(input: string, field = 'phone'): string {
  const phone = parsePhone(input);
  if (!phone) throw badUserInput('Enter a mainland China mobile number (11 digits, e.g. 13800000000)', { field });
  return phone;
}

/** Emails are compared case-insensitively: stored trimmed and lower-cased. */
export function parseEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : null;
}

export function requireEmail(input: string, field = 'email'): string {
  const email = parseEmail(input);
  if (!email) throw badUserInput('Enter a valid email address', { field });
  return email;
}

/** `login` of LoginInput: an email or a phone number; null when it is neither (answered like a wrong password). */
export function parseLogin(input: string): { kind: 'email'; email: string } | { kind: 'phone'; phone: string } | null {
  if (input.includes('@')) {
    const email = parseEmail(input);
    return email ? { kind: 'email', email } : null;
  }
  const phone = parsePhone(input);
  return phone ? { kind: 'phone', phone } : null;
}

export function requireDisplayName(input: string): string {
  const name = input.trim().replace(/\s+/g, ' ');
  if (name.length < 1 || [...name].length > 50) throw badUserInput('Display name must be 1 to 50 characters', { field: 'displayName' });
  // Control characters would break logs and UIs that show the name.
  if (/\p{Cc}/u.test(name)) throw badUserInput('Display name contains invalid characters', { field: 'displayName' });
  return name;
}

export function requireAvatarUrl(input: string): string {
  let parsed: URL;
  try {
    parsed = new URL(input.trim());
  } catch {
    throw badUserInput('avatarUrl must be an absolute http(s) URL', { field: 'avatarUrl' });
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || input.length > 1024) {
    throw badUserInput('avatarUrl must be an absolute http(s) URL of at most 1024 characters', { field: 'avatarUrl' });
  }
  return parsed.toString();
}
