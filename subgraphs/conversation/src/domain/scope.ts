import type { ChatModelRepository } from '../data/models.ts';
import type { ConversationRepository } from '../data/conversations.ts';
import type { MessageRepository } from '../data/messages.ts';
import type { ChatRuntime } from './chat-runtime.ts';

/** What a use case needs of one request: the verified caller and tenant-scoped repositories. */
export interface UserScope {
  tenantId: string;
  userId: string;
  requestId: string;
  conversations: ConversationRepository;
  messages: MessageRepository;
  models: ChatModelRepository;
  runtime: ChatRuntime;
}
