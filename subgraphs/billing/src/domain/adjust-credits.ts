import { randomUUID } from 'node:crypto';
import { assertNever, badUserInput } from '@firefly/errors';
import type { BillingScope } from './scope.ts';
import { ledgerKeys } from './ids.ts';
import type { Balance } from './ports.ts';
import { MAX_CREDITS } from './pricing.ts';
import { requireKey } from './validate.ts';

const MAX_NOTE_LENGTH = 512;

export interface AdjustCreditsInput {
  tenantId: string;
  userId: string;
  /** Non-zero; negative takes credits away, but never below 0 available. */
  delta: number;
  /** Why: kept on the ledger entry. */
  note: string;
  /** The admin making the change, for the audit log. */
  adminUserId: string;
  /** The request, for the audit log. */
  requestId?: string;
}

/** An admin's manual correction, booked as one ADJUSTMENT ledger entry. */
export async function adjustCredits(scope: BillingScope, input: AdjustCreditsInput): Promise<Balance> {
  requireKey(input.userId, 'userId');
  if (!Number.isSafeInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_CREDITS) {
    throw badUserInput(`delta must be a non-zero whole number between -${MAX_CREDITS} and ${MAX_CREDITS}`, { field: 'delta' });
  }
  const note = input.note.trim();
  if (note === '' || note.length > MAX_NOTE_LENGTH) {
    throw badUserInput(`note must be 1 to ${MAX_NOTE_LENGTH} characters`, { field: 'note' });
  }

  const account = await scope.store.ensureAccount(input.tenantId, input.userId);
  const outcome = await scope.store.book(account, {
    delta: input.delta,
    reason: 'ADJUSTMENT',
    referenceId: null,
    idempotencyKey: ledgerKeys.adjustment(randomUUID()),
    note,
  }, {
    tenantId: input.tenantId,
    actor: input.adminUserId,
    requestId: input.requestId ?? null,
    action: 'adjustCredits',
    targetType: 'User',
    targetId: input.userId,
    details: { delta: input.delta, note },
  });
  switch (outcome.kind) {
    case 'booked':
      scope.logger.info({ accountId: account.id, adminUserId: input.adminUserId, delta: input.delta, entryId: outcome.entry.id }, 'credits adjusted');
      return outcome.balance;
    case 'insufficient':
      throw badUserInput('The adjustment would make the available balance negative', { field: 'delta', available: outcome.available });
    case 'duplicate':
      throw new Error('a fresh adjustment key collided');
    default:
      return assertNever(outcome);
  }
}
