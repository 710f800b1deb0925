import type { UserDb } from '@firefly/db';
import type { BaseContext } from '@firefly/server-kit';
import { createSessionRepository } from './data/sessions.ts';
import { createUserLoader, createUserRepository } from './data/users.ts';
import type { IdentityScope, IdentityServices } from './domain/scope.ts';

export interface UserDeps {
  db: UserDb;
  services: IdentityServices;
}

export interface UserContext extends BaseContext, IdentityScope {
  loaders: { user: ReturnType<typeof createUserLoader> };
}

/** Fresh per request: repositories bound to the request's tenant, and fresh DataLoaders. */
export function createUserContext(deps: UserDeps, base: BaseContext): UserContext {
  const users = createUserRepository(deps.db, base.tenantId);
  return {
    ...base,
    users,
    sessions: createSessionRepository(deps.db, base.tenantId),
    services: deps.services,
    loaders: { user: createUserLoader(users) },
  };
}
