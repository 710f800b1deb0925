import type { ConversationContext } from '../context.ts';
import { createConversation, deleteConversation, updateConversation, type CreateConversationInput } from '../domain/manage-conversations.ts';
import { regenerateMessage, sendMessage } from '../domain/send-message.ts';
import { stopGeneration } from '../domain/stop-generation.ts';
import { userScope } from './util.ts';

export const Mutation = {
  createConversation: (_: unknown, args: { input: CreateConversationInput }, ctx: ConversationContext) => createConversation(userScope(ctx), args.input),
  updateConversation: (_: unknown, args: { id: string; input: CreateConversationInput }, ctx: ConversationContext) =>
    updateConversation(userScope(ctx), args.id, args.input),
  deleteConversation: (_: unknown, args: { id: string }, ctx: ConversationContext) => deleteConversation(userScope(ctx), args.id),
  sendMessage: (_: unknown, args: { input: { conversationId: string; content: string } }, ctx: ConversationContext) => sendMessage(userScope(ctx), args.input),
  stopGeneration: (_: unknown, args: { messageId: string }, ctx: ConversationContext) => stopGeneration(userScope(ctx), args.messageId),
  regenerateMessage: (_: unknown, args: { messageId: string }, ctx: ConversationContext) => regenerateMessage(userScope(ctx), args.messageId),
};
