import DataLoader from 'dataloader';
import type { ConversationDb } from '@firefly/db';
import { createByIdLoader, parsePage, toConnection, type BaseContext, type PageArgs } from '@firefly/server-kit';
import { createConversationRepository } from './data/conversations.ts';
import { createMessageRepository, type MessageRow } from './data/messages.ts';
import { createChatModelRepository } from './data/models.ts';
import type { ChatRuntime } from './domain/chat-runtime.ts';

export interface ConversationDeps {
  db: ConversationDb;
}

/**
 * A loader of one connection page per parent id. Keys of the same request that ask for the same page size and
 * cursor share one batch; each parent's page is one indexed query (a keyset page cannot be shared across parents).
 */
function createPageLoader<T extends { createdAt: Date; id: string }>(fetch: (parentId: string, args: PageArgs) => Promise<T[]>) {
  return new DataLoader<{ parentId: string; args: PageArgs }, ReturnType<typeof toConnection<T>>, string>(
    (keys) =>
      Promise.all(
        keys.map(async ({ parentId, args }) => {
          const page = parsePage(args);
          return toConnection(await fetch(parentId, args), page.take);
        }),
      ),
    { cacheKeyFn: ({ parentId, args }) => `${parentId}|${args.first ?? ''}|${args.after ?? ''}` },
  );
}

export function createConversationContext(deps: ConversationDeps & { chat: ChatRuntime }, base: BaseContext) {
  const conversations = createConversationRepository(deps.db, base.tenantId);
  const messages = createMessageRepository(deps.db, base.tenantId);
  const models = createChatModelRepository(deps.db);
  return {
    ...base,
    conversations,
    messages,
    models,
    chat: deps.chat,
    loaders: {
      conversation: createByIdLoader(conversations.findByIds),
      message: createByIdLoader(messages.findByIds),
      model: createByIdLoader(models.findByIds),
      lastMessage: new DataLoader<string, MessageRow | null>(async (ids) => {
        const rows = await messages.lastOf(ids);
        const byConversation = new Map<string, MessageRow>();
        for (const row of rows) if (!byConversation.has(row.conversationId)) byConversation.set(row.conversationId, row);
        return ids.map((id) => byConversation.get(id) ?? null);
      }),
      conversationsOfUser: createPageLoader((userId, args) => conversations.listByUser(userId, parsePage(args))),
      messagesOfConversation: createPageLoader((conversationId, args) => messages.listByConversation(conversationId, parsePage(args))),
    },
  };
}

export type ConversationContext = ReturnType<typeof createConversationContext>;
