import { requireUserId } from '@firefly/server-kit';
import type { ConversationContext } from '../context.ts';
import type { ConversationScope } from '../domain/scope.ts';

/** The signed-in caller's view for the use cases in domain/ and generation/ (UNAUTHENTICATED for anyone else). */
export function conversationScope(ctx: ConversationContext): ConversationScope {
  return {
    tenantId: ctx.tenantId,
    userId: requireUserId(ctx),
    requestId: ctx.requestId,
    partner: ctx.identity.partner,
    conversations: ctx.conversations,
    messages: ctx.messages,
    models: ctx.models,
    services: ctx.services,
  };
}
