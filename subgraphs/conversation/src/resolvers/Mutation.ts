import type { ConversationContext } from '../context.ts';
import { createConversation, deleteConversation, updateConversation, type CreateConversationInput } from '../domain/manage-conversations.ts';
import { regenerateMessage, sendMessage } from '../domain/send-message.ts';
import { stopGeneration } from '../generation/stop-generation.ts';
import { conversationScope } from './scope.ts';

export const Mutation = {
  createConversation: (_: unknown, args: { input: CreateConversationInput }, ctx: ConversationContext) => createConversation(conversationScope(ctx), args.input),
  updateConversation: (_: unknown, args: { id: string; input: CreateConversationInput }, ctx: ConversationContext) =>
    updateConversation(conversationScope(ctx), args.id, args.input),
  deleteConversation: (_: unknown, args: { id: string }, ctx: ConversationContext) => deleteConversation(conversationScope(ctx), args.id),
  sendMessage: (_: unknown, args: { input: { conversationId: string; content: string; idempotencyKey?: string | null } }, ctx: ConversationContext) => sendMessage(conversationScope(ctx), args.input),
  stopGeneration: (_: unknown, args: { messageId: string }, ctx: ConversationContext) => stopGeneration(conversationScope(ctx), args.messageId),
  regenerateMessage: (_: unknown, args: { messageId: string; idempotencyKey?: string | null }, ctx: ConversationContext) =>
    regenerateMessage(conversationScope(ctx), args.messageId, args.idempotencyKey),
};
