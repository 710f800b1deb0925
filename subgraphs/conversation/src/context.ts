import DataLoader from 'dataloader';
import { DEFAULT_TENANT_ID, scopeToTenant } from '@firefly/db';
import { catalogChanged } from '@firefly/redis';
import { createByIdLoader, createPageLoader, eachParent, oncePerRequest, type BaseContext } from '@firefly/server-kit';
import { createConversationRepository } from './data/conversations.ts';
import { createMessageRepository } from './data/messages.ts';
import { createChatModelRepository, createChatModelWriter, createTenantChatModelWriter } from './data/models.ts';
import type { MessageRow } from './domain/ports.ts';
import type { TenantChatModelAdmin } from './domain/tenant-chat-models.ts';
import type { ChatCatalogAdmin } from './domain/upsert-chat-model.ts';
import type { ConversationDeps } from './server.ts';
import type { ConversationServices } from './services.ts';

/**
 * Fresh per request: stores over a client scoped to the request's tenant (scopeToTenant: every model query is
 * filtered by, and every write stamped with, that tenant), fresh DataLoaders, the process's services.
 */
export function createConversationContext(deps: ConversationDeps, services: ConversationServices, base: BaseContext) {
  const db = scopeToTenant(deps.db, base.tenantId);
  const conversations = createConversationRepository(db, base.tenantId, deps.db);
  const messages = createMessageRepository(db, base.tenantId);
  const modelRepository = createChatModelRepository(deps.db, db, base.tenantId, deps.db);
  // The catalog is read once per request, however many aliases ask for it.
  const models = { ...modelRepository, listActive: oncePerRequest(modelRepository.listActive) };
  const catalogAdmin: ChatCatalogAdmin = {
    platformTenantId: DEFAULT_TENANT_ID,
    providers: services.chatProviders,
    async setPrice(modelId, inputPer1kTokens, outputPer1kTokens) {
      await services.credits.setChatPrice({ tenantId: base.tenantId, requestId: base.requestId, modelId, inputPer1kTokens, outputPer1kTokens });
    },
    save: createChatModelWriter(deps.db).save,
    catalogChanged: () => catalogChanged(deps.redis, base.logger),
    logger: base.logger,
  };
  const tenantCatalogAdmin: TenantChatModelAdmin = {
    platformTenantId: DEFAULT_TENANT_ID,
    ...createTenantChatModelWriter(deps.db),
    catalogChanged: () => catalogChanged(deps.redis, base.logger),
    logger: base.logger,
  };
  return {
    ...base,
    catalogAdmin,
    tenantCatalogAdmin,
    conversations,
    messages,
    models,
    services,
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
      conversationPages: createPageLoader(eachParent((userId, page) => conversations.listByUser(userId, page))),
      messagePages: createPageLoader(eachParent((conversationId, page) => messages.listByConversation(conversationId, page))),
    },
  };
}

export type ConversationContext = ReturnType<typeof createConversationContext>;
