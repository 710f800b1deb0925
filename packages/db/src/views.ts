import type { Db } from './client.ts';
import type { Prisma } from './generated/prisma/client.ts';

/** Options Prisma's `$transaction` takes (`maxWait`, `timeout` in ms; isolation level). */
export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
}

/** The model delegates of the client (`user`, `order`, …). */
export type ModelKey = Uncapitalize<Prisma.ModelName>;

/**
 * A client narrowed to some model delegates. `$transaction` is narrowed too, so the transaction client handed to
 * an interactive transaction exposes the same delegates only: a subgraph cannot reach another domain's tables
 * through a transaction either (docs/architecture.md, "Data ownership").
 */
export type DomainDb<K extends ModelKey> = Pick<Db, K> & {
  $transaction<R>(fn: (tx: Pick<Prisma.TransactionClient, K>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(
    queries: [...P],
    options?: Pick<TransactionOptions, 'isolationLevel'>,
  ): Promise<{ [I in keyof P]: Awaited<P[I]> }>;
};

/** The user subgraph's tables. */
export type UserModelKey = 'tenant' | 'user' | 'credential' | 'session' | 'partner' | 'partnerApiKey';
/** The conversation subgraph's tables. */
export type ConversationModelKey = 'chatModel' | 'conversation' | 'message' | 'pendingSettlement';
/** The image subgraph's tables. */
export type ImageModelKey = 'imageModel' | 'imageJob' | 'image';
/** The billing subgraph's tables. */
export type BillingModelKey =
  | 'product'
  | 'chatPrice'
  | 'imagePrice'
  | 'order'
  | 'payment'
  | 'refund'
  | 'creditAccount'
  | 'ledgerEntry'
  | 'reservation';

export type UserDb = DomainDb<UserModelKey>;
export type ConversationDb = DomainDb<ConversationModelKey>;
export type ImageDb = DomainDb<ImageModelKey>;
export type BillingDb = DomainDb<BillingModelKey>;

/** The tenant-aware transaction client of each view, for repository functions that run inside a transaction. */
export type UserTx = Pick<Prisma.TransactionClient, UserModelKey>;
export type ConversationTx = Pick<Prisma.TransactionClient, ConversationModelKey>;
export type ImageTx = Pick<Prisma.TransactionClient, ImageModelKey>;
export type BillingTx = Pick<Prisma.TransactionClient, BillingModelKey>;
