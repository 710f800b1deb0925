import { badUserInput } from '@firefly/errors';
import type { LedgerEntryResolvers, PartnerResolvers } from '../generated/resolvers-types.ts';

/** Partner.creditUsage looks back at most this many UTC days (as Partner.usage does). */
const MAX_CREDIT_USAGE_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * Billing's field of the Partner entity (the user subgraph owns partners; ADMIN only, enforced from the schema). A
 * partner of another tenant, or an unknown id, simply has spent nothing here: every read is scoped to the tenant.
 */
export const Partner: PartnerResolvers = {
  __resolveReference: (reference) => reference,
  creditUsage: (partner, args, ctx) => {
    const days = args.days ?? 7;
    if (!Number.isInteger(days) || days < 1 || days > MAX_CREDIT_USAGE_DAYS) throw badUserInput(`days must be between 1 and ${MAX_CREDIT_USAGE_DAYS}`, { field: 'days' });
    const now = new Date();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * DAY_MS);
    return ctx.ledger.partnerSpending(partner.id, since);
  },
};

/** LedgerEntry.partner: a reference the user subgraph resolves (ADMIN only: null for anyone else, from the schema). */
export const LedgerEntry: LedgerEntryResolvers = {
  partner: (entry) => (entry.partnerId === null ? null : { id: entry.partnerId }),
};
