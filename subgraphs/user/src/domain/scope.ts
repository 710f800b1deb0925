import type { Identity, Role } from '@firefly/auth';
import { ROLES } from '@firefly/auth';
import type { Logger } from '@firefly/logger';
import type { PartnerRepository } from '../data/partners.ts';
import type { AuditEventRepository } from '../data/audit-events.ts';
import type { PersistedQueryListRepository } from '../data/persisted-query-lists.ts';
import type { SessionRepository } from '../data/sessions.ts';
import type { UserRepository, UserRow } from '../data/users.ts';
import type { UserServices } from '../services.ts';

/** What a use case needs from the request: who asks, in which tenant, and tenant-bound repositories. */
export interface UserScope {
  tenantId: string;
  requestId: string;
  identity: Identity;
  logger: Logger;
  users: UserRepository;
  sessions: SessionRepository;
  partners: PartnerRepository;
  auditEvents: AuditEventRepository;
  persistedQueryLists: PersistedQueryListRepository;
  services: UserServices;
}

export function rolesOf(user: Pick<UserRow, 'roles'>): Role[] {
  return user.roles.split(',').filter((r): r is Role => ROLES.includes(r as Role));
}

/** The client IP the gateway put into the credential; `unknown` for calls without one (services). */
export function clientIpOf(identity: Identity): string {
  return identity.clientIp ?? 'unknown';
}
