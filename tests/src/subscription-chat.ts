/**
 * Chat through the public endpoint only, for the subscription scenarios: users, conversations and messages via the
 * gateway over HTTP, token streams via the gateway over graphql-ws.
 */
import type { Db } from '@firefly/db';
import { seedUserWithHistory } from './fixtures.ts';
import type { Stack } from './subscription-stack.ts';

/** Every field of the final event, across conversation, user and billing. */
export const STREAM_ACROSS_SUBGRAPHS = /* GraphQL */ `
  subscription Stream($messageId: ID!, $afterSeq: Int) {
    messageStream(messageId: $messageId, afterSeq: $afterSeq) {
      messageId
      seq
      delta
      done
      message {
        id
        status
        content
        usage { outputTokens }
        conversation { id title owner { id displayName creditBalance { available reserved } } }
      }
    }
  }
`;

export interface StreamEvent {
  messageId: string;
  seq: number;
  delta: string;
  done: boolean;
  message: null | {
    id: string;
    status: string;
    content: string;
    usage: { outputTokens: number } | null;
    conversation: { id: string; title: string; owner: { id: string; displayName: string; creditBalance: { available: number; reserved: number } } };
  };
}

export interface ChatUser {
  id: string;
  tenantId: string;
  displayName: string;
  token: string;
  sessionId: string;
}

export async function createChatUser(stack: Stack, credits: number): Promise<ChatUser> {
  const { user } = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits });
  const { token, sessionId } = await stack.tokenFor(user);
  return { id: user.id, tenantId: user.tenantId, displayName: user.displayName, token, sessionId };
}

/** Creates a conversation and sends `content` through gateway `gateway`; returns the STREAMING assistant message id. */
export async function startGeneration(stack: Stack, user: ChatUser, content: string, gateway = 0): Promise<{ conversationId: string; messageId: string }> {
  const created = await stack.request('mutation { createConversation(input: {}) { id } }', { token: user.token, gateway });
  if (created.body.errors) throw new Error(`createConversation: ${JSON.stringify(created.body.errors)}`);
  const conversationId = created.body.data.createConversation.id as string;
  const sent = await stack.request('mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { assistantMessage { id status } } }', {
    token: user.token,
    gateway,
    variables: { input: { conversationId, content } },
  });
  if (sent.body.errors) throw new Error(`sendMessage: ${JSON.stringify(sent.body.errors)}`);
  return { conversationId, messageId: sent.body.data.sendMessage.assistantMessage.id as string };
}

/** The stored message, straight from the database. */
export async function storedMessage(db: Db, messageId: string): Promise<{ status: string; content: string }> {
  return db.message.findUniqueOrThrow({ where: { id: messageId }, select: { status: true, content: true } });
}

export async function balanceOf(db: Db, userId: string): Promise<{ available: number; reserved: number }> {
  return db.creditAccount.findFirstOrThrow({ where: { userId }, select: { available: true, reserved: true } });
}
