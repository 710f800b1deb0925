import { scopeToTenant } from '@firefly/db';
import { createByIdLoader, type BaseContext } from '@firefly/server-kit';
import { createPartnerLoaders, createPartnerRepository } from './data/partners.ts';
import { createAuditEventRepository } from './data/audit-events.ts';
import { createOrderPaidSmsRepository, type OrderPaidSmsRepository } from './data/order-paid-sms.ts';
import { createPersistedQueryListRepository, type PersistedQueryListSummary } from './data/persisted-query-lists.ts';
import { createSessionRepository } from './data/sessions.ts';
import { createUserLoader, createUserRepository } from './data/users.ts';
import type { UserScope } from './domain/scope.ts';
import type { UserDeps } from './server.ts';
import type { UserServices } from './services.ts';

export interface UserContext extends BaseContext, UserScope {
  orderPaidSms: OrderPaidSmsRepository;
  loaders: { user: ReturnType<typeof createUserLoader>; persistedQueryList: ReturnType<typeof createByIdLoader<PersistedQueryListSummary>> } & ReturnType<
    typeof createPartnerLoaders
  >;
}

/**
 * Fresh per request: repositories over a client scoped to the request's tenant (scopeToTenant: every model query
 * is filtered by, and every write stamped with, that tenant), and fresh DataLoaders.
 */
export function createUserContext(deps: UserDeps, services: UserServices, base: BaseContext): UserContext {
  const db = scopeToTenant(deps.db, base.tenantId);
  const users = createUserRepository(db, base.tenantId, services.pii);
  const partners = createPartnerRepository(db, base.tenantId);
  const persistedQueryLists = createPersistedQueryListRepository(db, base.tenantId);
  return {
    ...base,
    users,
    sessions: createSessionRepository(db, base.tenantId),
    partners,
    auditEvents: createAuditEventRepository(db, base.tenantId),
    persistedQueryLists,
    orderPaidSms: createOrderPaidSmsRepository(db, base.tenantId),
    services,
    loaders: { user: createUserLoader(users), persistedQueryList: createByIdLoader(persistedQueryLists.summaries), ...createPartnerLoaders(partners) },
  };
}
