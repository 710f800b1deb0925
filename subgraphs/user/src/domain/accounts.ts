import { isUniqueConstraintError } from '@firefly/db';
import { badUserInput, conflict, forbidden, unauthenticated } from '@firefly/errors';
import { DuplicateContactError, type UserRow } from '../data/users.ts';
import { parseLogin, requireDisplayName, requireEmail, requirePhone } from './identifiers.ts';
import { checkPasswordPolicy } from './password-policy.ts';
import { clientIpOf, type UserScope } from './scope.ts';
import { startSession, type AuthPayload } from './sessions.ts';
import type { SmsPurpose } from './sms-codes.ts';

export interface RegisterInput {
  email?: string | null;
  phone?: string | null;
  smsCode?: string | null;
  password?: string | null;
  displayName: string;
}

/**
 * Deliberately vague: registration must say that it failed, but not which of the identifiers is taken. Email
 * registration cannot hide that an address is in use (that needs an emailed link, out of scope here), so it is
 * limited per IP by @rateLimit instead; phone registration only gets this far after proving the phone with a code.
 */
const REGISTRATION_CONFLICT = 'These sign-in details cannot be used to create an account; sign in instead, or use other details';
const INVALID_CREDENTIALS = 'Invalid login or password';
const INVALID_CODE = 'Invalid or expired verification code';

async function requireTenant(scope: UserScope): Promise<void> {
  if (!(await scope.services.tenantExists(scope.tenantId))) throw badUserInput('Unknown tenant', { field: 'tenant' });
}

/** email + password, or phone + SMS code (+ optional password). */
export async function register(scope: UserScope, input: RegisterInput): Promise<AuthPayload> {
  await requireTenant(scope);
  const displayName = requireDisplayName(input.displayName);
  const email = input.email ? requireEmail(input.email) : null;
  const phone = input.phone ? requirePhone(input.phone) : null;
  const password = input.password || null;
  if (!email && !phone) throw badUserInput('Register with an email and a password, or with a phone number and an SMS code', { field: 'email' });
  if (phone && !input.smsCode) throw badUserInput('An SMS code is required to register with a phone number', { field: 'smsCode' });
  if (!phone && !password) throw badUserInput('A password is required to register with an email', { field: 'password' });
  if (password) checkPasswordPolicy(password, { email, phone, displayName });

  if (phone) {
    const check = await scope.services.smsCodes.verify({ tenantId: scope.tenantId, phone, purpose: 'REGISTER', code: input.smsCode ?? '' });
    if (check !== 'ok') throw badUserInput(INVALID_CODE, { field: 'smsCode' });
  }

  const passwordHash = password ? await scope.services.hasher.hash(password) : null;
  let user: UserRow;
  try {
    user = await scope.users.create({ displayName, email, phone, passwordHash });
  } catch (error) {
    if (isUniqueConstraintError(error) || error instanceof DuplicateContactError) throw conflict(REGISTRATION_CONFLICT);
    throw error;
  }
  scope.logger.info({ userId: user.id, method: phone ? 'phone' : 'email' }, 'registered a user');
  await scope.services.signupGrants.grant({ tenantId: scope.tenantId, userId: user.id, requestId: scope.requestId });
  return startSession(scope, user, 'register');
}

/**
 * Email or phone + password. Every failure reads the same and costs the same (an argon2 verification against a
 * dummy hash when there is no account or no password), and counts toward the IP and account throttles.
 */
export async function login(scope: UserScope, input: { login: string; password: string }): Promise<AuthPayload> {
  const { services, tenantId } = scope;
  const ip = clientIpOf(scope.identity);
  const parsed = parseLogin(input.login);
  const throttleKey = parsed ? (parsed.kind === 'email' ? parsed.email : parsed.phone) : input.login.trim().toLowerCase();
  await services.loginThrottle.check(tenantId, throttleKey, ip);

  const user = parsed ? await (parsed.kind === 'email' ? scope.users.findByEmail(parsed.email) : scope.users.findByPhone(parsed.phone)) : null;
  const hash = user ? await scope.users.passwordHashOf(user.id) : null;
  const ok = hash ? await services.hasher.verify(hash, input.password) : await services.hasher.verifyNothing(input.password);
  if (!user || !ok) {
    await services.loginThrottle.recordFailure(tenantId, throttleKey, ip);
    scope.logger.info({ outcome: 'failed' }, 'password sign-in failed');
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  await services.loginThrottle.recordSuccess(tenantId, throttleKey, ip);
  if (user.status !== 'ACTIVE') throw forbidden('This account is suspended');
  if (hash && services.hasher.needsRehash(hash)) await scope.users.setPasswordHash(user.id, await services.hasher.hash(input.password));
  return startSession(scope, user, 'login');
}

/**
 * Sends a code when it can be used — REGISTER and BIND_PHONE for a number without an account, LOGIN and
 * RESET_PASSWORD for one with an active account — and otherwise answers exactly the same without sending, after
 * the same cooldown and caps: the response never reveals whether a number is registered.
 */
export async function requestSmsCode(scope: UserScope, input: { phone: string; purpose: SmsPurpose }): Promise<{ cooldownSeconds: number }> {
  await requireTenant(scope);
  const phone = requirePhone(input.phone);
  if (input.purpose === 'BIND_PHONE' && scope.identity.kind !== 'user') throw unauthenticated();
  const existing = await scope.users.findByPhone(phone);
  let deliver: boolean;
  switch (input.purpose) {
    case 'REGISTER':
    case 'BIND_PHONE':
      deliver = existing === null;
      break;
    case 'LOGIN':
    case 'RESET_PASSWORD':
      deliver = existing !== null && existing.status === 'ACTIVE';
      break;
  }
  return scope.services.smsCodes.request({ tenantId: scope.tenantId, phone, purpose: input.purpose, clientIp: clientIpOf(scope.identity), deliver });
}

export async function loginWithSmsCode(scope: UserScope, input: { phone: string; code: string }): Promise<AuthPayload> {
  const phone = requirePhone(input.phone);
  const check = await scope.services.smsCodes.verify({ tenantId: scope.tenantId, phone, purpose: 'LOGIN', code: input.code });
  if (check !== 'ok') throw unauthenticated(INVALID_CODE);
  const user = await scope.users.findByPhone(phone);
  if (!user) throw unauthenticated(INVALID_CODE);
  return startSession(scope, user, 'loginWithSmsCode');
}
