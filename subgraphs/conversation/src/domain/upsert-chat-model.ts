import type { AuditActor } from '@firefly/db';
import { badUserInput, forbidden, optionalText, requireIdentifier, requireInt, requireText } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { ChatModelRow } from './ports.ts';

/** Longest prompt or answer a model may declare, in tokens (far above any model today, low enough to catch typos). */
const MAX_TOKENS = 10_000_000;
/** Highest price per 1,000 tokens, in credits. */
const MAX_PRICE_PER_1K = 1_000_000;

export interface ChatModelInput {
  id: string;
  name: string;
  description?: string | null;
  provider?: string | null;
  maxInputTokens: number;
  maxOutputTokens: number;
  inputPricePer1k: number;
  outputPricePer1k: number;
  active?: boolean | null;
}

export interface NewChatModel extends Omit<ChatModelRow, 'active'> {
  provider: string;
  active: boolean | undefined;
}

/** What upsertChatModel needs. */
export interface ChatCatalogAdmin {
  /** Whose admins may change the platform-wide catalog (the platform tenant). */
  platformTenantId: string;
  /** The providers a model may name: `dashscope` and the OpenAI-compatible ones of the configuration. */
  providers: readonly string[];
  /** Sets the price (billing, versioned); before the model row, so an active model always has a price. */
  setPrice(modelId: string, inputPer1kTokens: number, outputPer1kTokens: number): Promise<void>;
  /** Creates or changes the row and writes its audit event in the same transaction. */
  save(model: NewChatModel, by: AuditActor, details: Record<string, unknown>): Promise<ChatModelRow>;
  /** Marks cached catalog answers stale on every replica (failures are logged, not thrown). */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

/**
 * An ADMIN of the platform tenant creates a chat model (new id) or changes one (existing id): name, limits, provider,
 * price, active. An inactive model leaves `chatModels` and cannot start new conversations or answers; what it
 * already reserved is charged at the price in force then. Admins of other tenants: FORBIDDEN (the catalog is
 * shared by every tenant).
 */
export async function upsertChatModel(admin: ChatCatalogAdmin, by: AuditActor, input: ChatModelInput): Promise<ChatModelRow> {
  if (by.tenantId !== admin.platformTenantId) throw forbidden('The chat model catalog is shared by every tenant: only admins of the platform tenant may change it');
  const id = requireIdentifier(input.id, 'id');
  const name = requireText(input.name, 'name', 100);
  const description = optionalText(input.description, 'description', 1024);
  const provider = input.provider == null ? 'dashscope' : requireText(input.provider, 'provider', 64);
  if (!admin.providers.includes(provider)) throw badUserInput(`provider must be one of: ${admin.providers.join(', ')}`, { field: 'provider' });
  const maxInputTokens = requireInt(input.maxInputTokens, 'maxInputTokens', 1, MAX_TOKENS);
  const maxOutputTokens = requireInt(input.maxOutputTokens, 'maxOutputTokens', 1, MAX_TOKENS);
  const inputPricePer1k = requireInt(input.inputPricePer1k, 'inputPricePer1k', 0, MAX_PRICE_PER_1K);
  const outputPricePer1k = requireInt(input.outputPricePer1k, 'outputPricePer1k', 0, MAX_PRICE_PER_1K);

  await admin.setPrice(id, inputPricePer1k, outputPricePer1k);
  const model = { id, name, description, provider, maxInputTokens, maxOutputTokens, active: input.active ?? undefined };
  const saved = await admin.save(model, by, { inputPricePer1k, outputPricePer1k });
  admin.logger.info({ modelId: id, active: saved.active, provider, by: by.actor }, 'chat model saved');
  await admin.catalogChanged();
  return saved;
}
