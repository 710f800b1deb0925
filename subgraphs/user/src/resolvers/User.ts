import { maskPhone } from '@firefly/logger';
import { isOwnerOrAdmin } from '@firefly/server-kit';
import type { UserContext } from '../context.ts';
import type { UserRow } from '../data/users.ts';

export const User = {
  __resolveReference: (reference: { id: string }, ctx: UserContext) => ctx.loaders.user.load(reference.id),
  roles: (user: UserRow) => user.roles.split(',').filter(Boolean),
  /** `owner_or_masked`: the owner and admins see the number, everyone else 138****0000. */
  phone: (user: UserRow, _: unknown, ctx: UserContext) => {
    if (!user.phone) return null;
    return isOwnerOrAdmin(ctx.identity, user, 'User') ? user.phone : maskPhone(user.phone);
  },
};
