import { unauthenticated } from '@firefly/errors';
import type { BaseContext } from '@firefly/server-kit';

export function requireUserId(ctx: BaseContext): string {
  if (ctx.identity.kind !== 'user') throw unauthenticated();
  return ctx.identity.userId;
}
