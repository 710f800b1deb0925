import { randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID, scopeToTenant, warmUpAtStart, type BillingDb, type Db } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { createBalanceLoader } from './data/accounts.ts';
import { createCreditStore } from './data/credit-store.ts';
import { createPriceSource } from './data/prices.ts';
import type { BillingSql } from './data/raw-sql.ts';
import { releaseReservation } from './domain/release-reservation.ts';
import { reserveCredits } from './domain/reserve-credits.ts';
import { reserveImageCredits } from './domain/reserve-image-credits.ts';
import { settleReservation } from './domain/settle-reservation.ts';
import { DEFAULT_CREDIT_SETTINGS, type BillingScope } from './domain/scope.ts';

/**
 * Warms a freshly started billing process before it listens (so before `/readyz` answers ready): opens every pooled
 * connection, and runs the statements of the credit hot path once — a balance read as `User.creditBalance` makes it,
 * an image hold priced by `reserveImageCredits`, a hold, its settlement, a hold and its release — so that Prisma's
 * query compilation and the JIT of these paths are paid here, not by the first users' requests. Measured at cold
 * start (images bench, IMAGES_WARMUP_JOBS=0): billing's first requests waited for connections being opened one by
 * one and each query shape's first compile (~50–350 ms on its first use, ~10 ms after).
 *
 * The writes run in @firefly/db's warmUpAtStart transaction, always rolled back, for a user id made up here: nothing
 * is kept and no other account's row is locked.
 */
export async function warmUpBilling(client: Db, options: { poolSize: number; logger: Logger }): Promise<void> {
  const tenantId = DEFAULT_TENANT_ID;
  const userId = `warm-up-${randomUUID()}`;
  await warmUpAtStart(client, {
    ...options,
    what: 'the credit paths',
    statements: async (tx) => {
      // The request path's own scoped client (scopeToTenant caches it per tenant) and loader: read-only, finds nothing.
      await createBalanceLoader(scopeToTenant(client, tenantId), tenantId).load(userId);
      // The credit store and prices over this transaction: their own transactions become this one.
      const inTx = new Proxy(tx, {
        get: (target, property, receiver) =>
          property === '$transaction' ? (body: (inner: typeof tx) => Promise<unknown>) => body(tx) : Reflect.get(target, property, receiver),
      }) as unknown as BillingDb & BillingSql;
      const scope: BillingScope = { store: createCreditStore(inTx), settings: DEFAULT_CREDIT_SETTINGS, logger: options.logger };
      const prices = createPriceSource(inTx);
      const account = await scope.store.ensureAccount(tenantId, userId);
      await tx.creditAccount.update({ where: { id: account.id }, data: { available: 10 } });
      const hold = (key: string) => ({ tenantId, userId, referenceId: randomUUID(), ttlSeconds: 60, idempotencyKey: key });
      // Priced like an image job; no model has this id, so it stops at NOT_FOUND after the price lookups.
      await reserveImageCredits(scope, prices, { ...hold('warm-up-image'), modelId: 'warm-up', size: '1024*1024', count: 1 }).catch(() => undefined);
      const settled = await reserveCredits(scope, { ...hold('warm-up-settle'), amount: 2 });
      await settleReservation(scope, { tenantId, reservationId: settled.id, actualAmount: 1, reason: 'IMAGE_USAGE', referenceId: settled.referenceId });
      const released = await reserveCredits(scope, { ...hold('warm-up-release'), amount: 2 });
      await releaseReservation(scope, { tenantId, reservationId: released.id });
    },
  });
}
