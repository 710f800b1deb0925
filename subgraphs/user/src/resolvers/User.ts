import { maskPhone } from '@firefly/logger';
import { isOwnerOrAdmin } from '@firefly/server-kit';
import { rolesOf } from '../domain/scope.ts';
import type { UserResolvers } from '../generated/resolvers-types.ts';

export const User: UserResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.user.load(reference.id),
  roles: (user) => rolesOf(user),
  /** `owner_or_masked`: the owner and admins see the number, everyone else 138****0000. */
  phone: (user, _, ctx) => {
    if (!user.phone) return null;
    return isOwnerOrAdmin(ctx.identity, user, 'User') ? user.phone : maskPhone(user.phone);
  },
};
