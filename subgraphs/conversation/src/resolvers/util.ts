import { unauthenticated } from '@firefly/errors';
import type { BaseContext } from '@firefly/server-kit';
import type { ConversationContext } from '../context.ts';
import type { UserScope } from '../domain/scope.ts';

export function requireUserId(ctx: BaseContext): string {
  if (ctx.identity.kind !== 'user') throw unauthenticated();
  return ctx.identity.userId;
}

/** The signed-in caller's view for the use cases in domain/. */
export function userScope(ctx: ConversationContext): UserScope {
  return {
    tenantId: ctx.tenantId,
    userId: requireUserId(ctx),
    requestId: ctx.requestId,
    conversations: ctx.conversations,
    messages: ctx.messages,
    models: ctx.models,
    runtime: ctx.chat,
  };
}
