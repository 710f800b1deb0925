import { badUserInput } from '@firefly/errors';

/**
 * The password policy, after NIST SP 800-63B §5.1.1.2 and OWASP's Authentication Cheat Sheet: length is what
 * matters (8 to 128 characters, any characters, spaces included), no composition rules; refuse passwords that are
 * commonly used or built from the account's own identifiers. Each refusal is BAD_USER_INPUT on `field` with a
 * machine-readable `reason`, so clients can show a precise message.
 */
const PASSWORD_MIN_LENGTH = 8;
const PASSWORD_MAX_LENGTH = 128;

export type PasswordPolicyReason = 'TOO_SHORT' | 'TOO_LONG' | 'TOO_COMMON' | 'CONTAINS_IDENTIFIER' | 'TOO_SIMPLE';

// The most frequent passwords of public breach corpora (and their Chinese favourites), lower-cased.
const COMMON = new Set([
  '12345678', '123456789', '1234567890', '11111111', '00000000', '88888888', '66666666', '12341234', '11223344',
  '87654321', '987654321', 'password', 'password1', 'password123', 'passw0rd', 'qwertyui', 'qwerty123', 'qwertyuiop',
  'iloveyou', 'abc12345', 'abcd1234', '1qaz2wsx', '1q2w3e4r', 'a1234567', 'aa123456', 'zxcvbnm1', 'asdfghjk',
  'woaini1314', '5201314520', 'wodemima', 'admin123', 'admin1234', 'welcome1', 'letmein1', 'sunshine', 'princess',
  'football', 'baseball', 'superman', 'trustno1', 'firefly1', 'firefly123', 'huawei123', 'qq123456', 'abc123456',
]);

export function checkPasswordPolicy(password: string, identifiers: { email?: string | null; phone?: string | null; displayName?: string | null } = {}, field = 'password'): void {
  const fail = (reason: PasswordPolicyReason, message: string) => badUserInput(message, { field, reason });
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw fail('TOO_SHORT', `Password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (length > PASSWORD_MAX_LENGTH) throw fail('TOO_LONG', `Password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) throw fail('TOO_COMMON', 'This password is too common; choose another');
  if (new Set(lower).size < 4) throw fail('TOO_SIMPLE', 'Password must use at least 4 different characters');
  const parts = [identifiers.email?.split('@')[0], identifiers.phone, identifiers.displayName?.replace(/\s+/g, '')]
    .map((p) => p?.toLowerCase())
    .filter((p): p is string => !!p && p.length >= 4);
  if (parts.some((part) => lower.includes(part))) throw fail('CONTAINS_IDENTIFIER', 'Password must not contain your email, phone number or name');
}
