import type { CreditsClient } from '@firefly/credits-client';
import { ErrorCode, isAppError } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { PendingSettlement, SettlementOutbox } from './ports.ts';

export interface SettlementDeps {
  credits: CreditsClient;
  outbox: SettlementOutbox;
  logger: Logger;
}

/** Billing's answers that will not change on retry: the reservation is gone, or the request is wrong. */
const REFUSALS = new Set<string>([ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.BAD_USER_INPUT, ErrorCode.INSUFFICIENT_CREDITS]);
/** Retry backoff: 1 s, 2 s, 4 s, … capped here. */
const MAX_RETRY_DELAY_MS = 10_000;

/**
 * Settles what a finished answer used (or releases the whole hold when `settlement.usage` is null or used no
 * tokens), returning the credits charged. Billing makes both idempotent by reservation id, so a retry after an
 * attempt that did land changes nothing.
 */
async function charge(deps: SettlementDeps, settlement: Omit<PendingSettlement, 'attempts'>, log: Logger): Promise<number> {
  const scope = { tenantId: settlement.tenantId, reservationId: settlement.reservationId };
  const usage = settlement.usage;
  if (!usage || usage.inputTokens + usage.outputTokens === 0) {
    await deps.credits.release(scope);
    return 0;
  }
  // At the price in force when the credits were reserved: a price change since does not alter this charge.
  const cost = await deps.credits.quoteChat({ ...scope, modelId: settlement.modelId, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
  const settled = await deps.credits.settle({ ...scope, actualAmount: cost, reason: 'CHAT_USAGE', referenceId: settlement.messageId });
  if (settled.shortfall > 0) log.warn({ cost, shortfall: settled.shortfall }, 'the chat cost exceeded the hold and the balance');
  return settled.settledAmount ?? cost;
}

function isRefusal(error: unknown): boolean {
  return isAppError(error) && REFUSALS.has(error.code);
}

function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** attempts);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Settles a finished answer's credits now, or parks the settlement in the outbox when billing does not answer
 * (unreachable, failing): the delivery job then retries it until billing answers, and the message gets its
 * `creditsCharged` then (null meanwhile). Resolves with the credits charged, or null when parked or refused.
 *
 * Why the hold survives the wait: billing releases an expired hold only from its own sweep, which does not run
 * while billing is down and first runs RESERVATION_SWEEP_INTERVAL_SECONDS (30 s by default) after billing starts;
 * the outbox retries at least every 10 s, so it settles before that sweep can release the hold. A hold also lasts
 * the generation timeout plus three leases plus a minute past its creation.
 */
export async function settleOrPark(deps: SettlementDeps, settlement: Omit<PendingSettlement, 'attempts'>, log: Logger): Promise<number | null> {
  try {
    return await charge(deps, settlement, log);
  } catch (error) {
    if (isRefusal(error)) {
      log.error({ err: error, reservationId: settlement.reservationId }, 'billing refused the chat settlement; nothing is charged');
      return null;
    }
    try {
      await deps.outbox.park(settlement, describe(error), new Date(Date.now() + retryDelayMs(0)));
      log.warn({ err: error, reservationId: settlement.reservationId }, 'billing did not accept the chat settlement; parked in the outbox for retry');
    } catch (parkError) {
      log.error({ err: parkError, reservationId: settlement.reservationId }, 'could not park the chat settlement; billing releases the hold at expiry');
    }
    return null;
  }
}

/**
 * One round of the outbox: every due settlement is tried once; billing's answer (settled, released, or refused)
 * removes it, anything else reschedules it with backoff. Any number of replicas may run this at once (billing's
 * idempotency by reservation id makes a double delivery harmless). Resolves with the number delivered.
 */
export async function deliverPendingSettlements(deps: SettlementDeps, options: { batchSize?: number } = {}): Promise<number> {
  const due = await deps.outbox.due(new Date(), options.batchSize ?? 100);
  let delivered = 0;
  for (const settlement of due) {
    const log = deps.logger.child({ messageId: settlement.messageId, reservationId: settlement.reservationId });
    try {
      const charged = await charge(deps, settlement, log);
      await deps.outbox.complete(settlement, charged);
      delivered += 1;
      log.info({ attempts: settlement.attempts + 1, charged }, 'delivered a parked chat settlement');
    } catch (error) {
      if (isRefusal(error)) {
        log.error({ err: error }, 'billing refused a parked chat settlement; dropping it');
        await deps.outbox.complete(settlement, null);
        continue;
      }
      const attempts = settlement.attempts + 1;
      await deps.outbox.reschedule(settlement.reservationId, attempts, new Date(Date.now() + retryDelayMs(attempts)), describe(error));
    }
  }
  return delivered;
}
