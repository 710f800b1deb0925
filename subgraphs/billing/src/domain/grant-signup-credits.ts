import { assertNever } from '@firefly/errors';
import type { BillingScope } from './scope.ts';
import { ledgerKeys } from './ids.ts';
import type { Balance } from './ports.ts';
import { requireKey } from './validate.ts';

/**
 * Creates the user's account and books the sign-up grant once (ledger reason GRANT). Idempotent per user: the
 * grant's ledger key is fixed per account, so registration may call it again (retries, races) without granting
 * twice. With a grant of 0 it only creates the account.
 */
export async function grantSignupCredits(scope: BillingScope, input: { tenantId: string; userId: string }): Promise<Balance> {
  requireKey(input.userId, 'userId');
  const account = await scope.store.ensureAccount(input.tenantId, input.userId);
  const amount = scope.settings.signupGrantCredits;
  if (amount > 0 && !(await scope.store.findEntry(account.id, ledgerKeys.signupGrant()))) {
    const outcome = await scope.store.book(account, { delta: amount, reason: 'GRANT', referenceId: null, idempotencyKey: ledgerKeys.signupGrant(), note: 'sign-up grant' });
    switch (outcome.kind) {
      case 'booked':
        return outcome.balance;
      case 'duplicate':
        break;
      case 'insufficient':
        throw new Error('a positive grant cannot be refused for insufficient credits');
      default:
        return assertNever(outcome);
    }
  }
  const current = await scope.store.findAccount(input.tenantId, input.userId);
  return { available: current?.available ?? 0, reserved: current?.reserved ?? 0 };
}
