import type { ConversationServices } from '../services.ts';
import type { ChatModelCatalog, ConversationStore, MessageStore } from './ports.ts';

/** What a use case needs of one request: the verified caller, tenant-scoped stores and the process's services. */
export interface ConversationScope {
  tenantId: string;
  userId: string;
  requestId: string;
  /** The partner whose API key made the request (from the gateway's credential); billing tags its credits with it. */
  partner?: { partnerId: string; apiKeyId: string } | undefined;
  conversations: ConversationStore;
  messages: MessageStore;
  models: ChatModelCatalog;
  services: ConversationServices;
}
