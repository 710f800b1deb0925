import type { AccessClaims, Identity, Role } from '@firefly/auth';
import { ROLES } from '@firefly/auth';
import type { SessionStore } from '@firefly/auth/sessions';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import type { SessionRepository } from '../data/sessions.ts';
import type { UserRepository, UserRow } from '../data/users.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { PasswordHasher } from './passwords.ts';
import type { SignupGrants } from './signup-grants.ts';
import type { SmsCodes } from './sms-codes.ts';

/** Process-wide collaborators of the identity use cases (built once in server.ts). */
export interface IdentityServices {
  redis: Redis;
  hasher: PasswordHasher;
  smsCodes: SmsCodes;
  loginThrottle: LoginThrottle;
  sessionStore: SessionStore;
  issueAccessToken: (claims: AccessClaims) => Promise<string>;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signupGrants: SignupGrants;
  tenantExists: (tenantId: string) => Promise<boolean>;
}

/** What a use case needs from the request: who asks, in which tenant, and tenant-bound repositories. */
export interface IdentityScope {
  tenantId: string;
  requestId: string;
  identity: Identity;
  logger: Logger;
  users: UserRepository;
  sessions: SessionRepository;
  services: IdentityServices;
}

export function rolesOf(user: Pick<UserRow, 'roles'>): Role[] {
  return user.roles.split(',').filter((r): r is Role => ROLES.includes(r as Role));
}

/** The client IP the gateway put into the credential; `unknown` for calls without one (services). */
export function clientIpOf(identity: Identity): string {
  return identity.clientIp ?? 'unknown';
}
