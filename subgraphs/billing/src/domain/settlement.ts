/**
 * How a settlement is priced when the actual cost is known (docs/architecture.md, "Streaming": chat generation, end).
 *
 * - actual ≤ hold: `actual` is charged, `hold − actual` goes back to available.
 * - actual > hold (the caller's upper bound was wrong, e.g. a model produced more tokens than it promised): the
 *   extra is taken from available as far as it goes, so the charge is `min(actual, hold + available)`. The balance
 *   never goes below zero; what cannot be collected (`shortfall = actual − charged`) is written off — the user is
 *   never in debt — and recorded in the ledger entry's note and the logs so it shows up in reconciliation.
 */
export interface Settlement {
  charged: number;
  /** Credits that go back from the hold to available (negative when the charge also takes from available). */
  returned: number;
  /** Cost that could not be collected and was written off. */
  shortfall: number;
}

export function computeSettlement(input: { hold: number; actual: number; available: number }): Settlement {
  const { hold, actual, available } = input;
  const charged = Math.min(actual, hold + available);
  return { charged, returned: hold - charged, shortfall: actual - charged };
}

/** The ledger note of a settlement: machine-readable enough for reconciliation, readable by a human. */
export function settlementNote(input: { hold: number; actual: number }, settlement: Settlement): string | null {
  if (settlement.shortfall === 0) return null;
  return `shortfall=${settlement.shortfall} actual=${input.actual} hold=${input.hold} charged=${settlement.charged}: the rest was written off`;
}
