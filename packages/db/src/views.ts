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
export type DomainDb<K extends ModelKey> = Pick<Db, K> &
  AuditWriter & {
  $transaction<R>(fn: (tx: DomainTx<K>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $transaction<P extends Prisma.PrismaPromise<unknown>[]>(
    queries: [...P],
    options?: Pick<TransactionOptions, 'isolationLevel'>,
  ): Promise<{ [I in keyof P]: Awaited<P[I]> }>;
};

/**
 * The audit log is the one table every domain writes: `create`/`createMany` only (recordAudit, audit.ts), in the same
 * transaction as the change it records. Reading it is the user subgraph's business (its view has the whole delegate);
 * nobody may update or delete a row (the database's triggers refuse it too).
 */
export interface AuditWriter {
  auditEvent: Pick<Prisma.TransactionClient['auditEvent'], 'create' | 'createMany'>;
}

/** A transaction client narrowed to some model delegates, plus the audit log's `create`. */
export type DomainTx<K extends ModelKey> = Pick<Prisma.TransactionClient, K> & AuditWriter;

/** The user subgraph's tables; it owns the audit log, which the others only append to. */
export type UserModelKey = 'tenant' | 'tenantHost' | 'setting' | 'stateRevision' | 'user' | 'credential' | 'session' | 'partner' | 'partnerApiKey' | 'persistedQueryList' | 'partnerUsage' | 'auditEvent' | 'orderPaidSms';
/** The conversation subgraph's tables. */
export type ConversationModelKey = 'chatModel' | 'tenantChatModel' | 'conversation' | 'message' | 'pendingSettlement';
/** The image subgraph's tables. */
export type ImageModelKey = 'imageModel' | 'tenantImageModel' | 'imageJob' | 'image';
/** The billing subgraph's tables. */
export type BillingModelKey =
  | 'product'
  | 'chatPrice'
  | 'chatPriceVersion'
  | 'imagePrice'
  | 'imagePriceVersion'
  | 'tenantChatPriceVersion'
  | 'tenantImagePriceVersion'
  | 'order'
  | 'payment'
  | 'refund'
  | 'creditAccount'
  | 'ledgerEntry'
  | 'reservation'
  | 'paymentNotification'
  | 'orderPaidNotice';

export type UserDb = DomainDb<UserModelKey>;
export type ConversationDb = DomainDb<ConversationModelKey>;
export type ImageDb = DomainDb<ImageModelKey>;
export type BillingDb = DomainDb<BillingModelKey>;

/** The tenant-aware transaction client of each view, for repository functions that run inside a transaction. */
export type UserTx = DomainTx<UserModelKey>;
export type ConversationTx = DomainTx<ConversationModelKey>;
export type ImageTx = DomainTx<ImageModelKey>;
export type BillingTx = DomainTx<BillingModelKey>;
