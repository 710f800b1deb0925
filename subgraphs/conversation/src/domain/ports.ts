import type { MessageRole, MessageStatus } from '@firefly/db';
import type { Page } from '@firefly/server-kit';

/**
 * What the conversation use cases need from storage. `data/` implements these over Prisma (one tenant per
 * repository: another tenant's id finds nothing); the use cases hold the rules and never see a query.
 */
/** The columns a user sets on a conversation. */
export interface ConversationFields {
  /** '' while untitled (the API shows UNTITLED until the first message names it). */
  title: string;
  modelId: string;
  systemPrompt: string | null;
  temperature: number | null;
  topP: number | null;
  maxTokens: number | null;
  enableSearch: boolean;
}

export interface ConversationRow extends ConversationFields {
  id: string;
  tenantId: string;
  userId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface MessageRow {
  id: string;
  tenantId: string;
  userId: string;
  conversationId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  /** Assistant messages: the user message they answer. */
  replyToId: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  finishReason: string | null;
  error: string | null;
  /** Stable code of a FAILED answer's error (Message.errorCode). */
  errorCode: string | null;
  creditsCharged: number | null;
  reservationId: string | null;
  createdAt: Date;
}

/** A stored message, as history for a prompt. */
export type HistoryMessage = Pick<MessageRow, 'id' | 'role' | 'content' | 'status' | 'replyToId' | 'createdAt'>;

export interface ChatModelRow {
  id: string;
  name: string;
  description: string | null;
  maxInputTokens: number;
  maxOutputTokens: number;
  active: boolean;
  /** Which upstream serves it (`dashscope` or a configured OpenAI-compatible provider); absent: not read. */
  provider?: string;
}

/** Conversations of one tenant; deleted ones (soft delete) are invisible. */
export interface ConversationStore {
  findByIds(ids: readonly string[]): Promise<ConversationRow[]>;
  /** A user's live conversation, read fresh; null when missing, deleted or someone else's. */
  findOwned(id: string, userId: string): Promise<ConversationRow | null>;
  /**
   * {@link findOwned} and the conversation's model as the tenant's catalog shows it (hidden from the tenant: inactive;
   * with its provider), in one statement: what an answer needs before it can start. `model` null when the catalog
   * has no such model any more.
   */
  findOwnedWithModel(id: string, userId: string): Promise<{ conversation: ConversationRow; model: ChatModelRow | null } | null>;
  /** A user's conversations, most recently created first (`page.take + 1` rows). */
  listByUser(userId: string, page: Page): Promise<ConversationRow[]>;
  create(id: string, userId: string, fields: ConversationFields): Promise<ConversationRow>;
  /** Updates a live conversation of `userId`; null when there is none. */
  update(id: string, userId: string, fields: Partial<ConversationFields>): Promise<ConversationRow | null>;
  /** Soft delete: the row stays (messages keep their billing record), every read hides it. */
  softDelete(id: string, userId: string): Promise<boolean>;
}

/** Messages of one tenant; those of deleted conversations are invisible to lookups. */
export interface MessageStore {
  findByIds(ids: readonly string[]): Promise<MessageRow[]>;
  /** One message, read fresh (no loader cache): the final state of a stream, a mutation's result. */
  findById(id: string): Promise<MessageRow | null>;
  /** A conversation's messages, oldest first (`page.take + 1` rows). */
  listByConversation(conversationId: string, page: Page): Promise<MessageRow[]>;
  /** The newest message of each conversation (at most one per conversation id). */
  lastOf(conversationIds: readonly string[]): Promise<MessageRow[]>;
  /** History for a prompt: the newest `limit` messages before `before` (default: all), newest first. */
  recentForContext(conversationId: string, limit: number, before?: Date): Promise<HistoryMessage[]>;
  /** The conversation's newest USER message. */
  latestUserMessage(conversationId: string): Promise<MessageRow | null>;
  /** Answers to one question still being generated. */
  streamingRepliesTo(userMessageId: string): Promise<{ id: string }[]>;
  /** Streaming answers of a conversation (to stop them when it is deleted). */
  streamingIn(conversationId: string): Promise<{ id: string }[]>;
}

/** The platform-wide chat model catalog (not tenant data). */
export interface ChatModelCatalog {
  listActive(): Promise<ChatModelRow[]>;
  findByIds(ids: readonly string[]): Promise<ChatModelRow[]>;
  findById(id: string): Promise<ChatModelRow | null>;
  /** The default for new conversations: the first active model of the catalog. */
  findDefault(): Promise<ChatModelRow | null>;
}
