import { createConversation, deleteConversation, updateConversation } from '../domain/manage-conversations.ts';
import { auditBy } from '@firefly/server-kit';
import { regenerateMessage, sendMessage } from '../domain/send-message.ts';
import { setTenantChatModel } from '../domain/tenant-chat-models.ts';
import { upsertChatModel } from '../domain/upsert-chat-model.ts';
import { stopGeneration } from '../generation/stop-generation.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';
import { conversationScope } from './scope.ts';

export const Mutation: MutationResolvers = {
  createConversation: (_, args, ctx) => createConversation(conversationScope(ctx), args.input),
  updateConversation: (_, args, ctx) => updateConversation(conversationScope(ctx), args.id, args.input),
  deleteConversation: (_, args, ctx) => deleteConversation(conversationScope(ctx), args.id),
  sendMessage: (_, args, ctx) => sendMessage(conversationScope(ctx), args.input),
  stopGeneration: (_, args, ctx) => stopGeneration(conversationScope(ctx), args.messageId),
  upsertChatModel: (_, args, ctx) => upsertChatModel(ctx.catalogAdmin, auditBy(ctx), args.input),
  setTenantChatModel: (_, args, ctx) => setTenantChatModel(ctx.tenantCatalogAdmin, auditBy(ctx), args.input),
  regenerateMessage: (_, args, ctx) => regenerateMessage(conversationScope(ctx), args.messageId, args.idempotencyKey),
};
