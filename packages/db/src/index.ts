// @firefly/db: the one Prisma client factory, tenant scoping and per-domain views. Migrations live in
// `@firefly/db/migrate`, seed data in `@firefly/db/seed`, scratch databases for tests in `@firefly/db/testing`.
export { createDb } from './client.ts';
export type { CreateDbOptions, Db, QueryEvent } from './client.ts';
export { scopeToTenant, tenantScopedModels, TenantScopeError } from './tenant-scope.ts';
export type { TenantScoped } from './tenant-scope.ts';
export type {
  BillingDb,
  BillingModelKey,
  BillingTx,
  ConversationDb,
  ConversationModelKey,
  ConversationTx,
  AuditWriter,
  DomainDb,
  DomainTx,
  ImageDb,
  ImageModelKey,
  ImageTx,
  ModelKey,
  TransactionOptions,
  UserDb,
  UserModelKey,
  UserTx,
} from './views.ts';
export { isRetryableTransactionError, transact } from './transaction.ts';
export { openPool, openPoolAtStart, warmUpAtStart, type WarmUpOptions } from './warm-up.ts';
export { recordAudit } from './audit.ts';
export type { AuditActor, AuditEntry } from './audit.ts';
export type { TransactionRetry, TransactOptions } from './transaction.ts';
export { isDatabaseUnavailableError, isPrismaError, isRecordNotFoundError, isUniqueConstraintError, PrismaErrorCode } from './errors.ts';
export { parseMysqlUrl, redactUrl, withDatabase } from './url.ts';
export type { MysqlUrl } from './url.ts';
export { DEFAULT_TENANT_ID } from './constants.ts';

// Generated enums (values and types), model row types and the Prisma namespace (input types, error classes).
export * from './generated/prisma/enums.ts';
export { Prisma } from './generated/prisma/client.ts';
export type {
  AuditEvent,
  ChatModel,
  ChatPrice,
  Conversation,
  Credential,
  CreditAccount,
  Image,
  ImageJob,
  ImageModel,
  ImagePrice,
  LedgerEntry,
  Message,
  Order,
  Payment,
  Product,
  Refund,
  Reservation,
  Session,
  Tenant,
  User,
} from './generated/prisma/client.ts';
