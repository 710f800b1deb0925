import { forbidden, notImplemented } from '@firefly/errors';
import { actorOf } from '@firefly/server-kit';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { grantSignupCredits } from '../domain/grant-signup-credits.ts';
import { releaseReservation } from '../domain/release-reservation.ts';
import { reserveCredits } from '../domain/reserve-credits.ts';
import { settleReservation } from '../domain/settle-reservation.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

/** Orders and payments are not live yet: these say so with NOT_IMPLEMENTED instead of failing on a null result. */
const paymentsNotAvailable = () => {
  throw notImplemented('payments', 'Payments are not available yet');
};

export const Mutation: MutationResolvers = {
  createOrder: paymentsNotAvailable,
  cancelOrder: paymentsNotAvailable,
  refundOrder: paymentsNotAvailable,

  adjustCredits: (_, args, ctx) => adjustCredits(ctx.scope, { tenantId: ctx.tenantId, ...args, adminUserId: actorOf(ctx.identity) }),

  // The internal API (service credential only, @inaccessible). The tenant is the one in the signed credential.
  reserveCredits: (_, args, ctx) => {
    const { tenantId, ...input } = args.input;
    if (tenantId != null && tenantId !== ctx.tenantId) throw forbidden("tenantId must be the credential's tenant");
    return reserveCredits(ctx.scope, { ...input, tenantId: ctx.tenantId });
  },
  settleReservation: async (_, args, ctx) => {
    const result = await settleReservation(ctx.scope, {
      tenantId: ctx.tenantId,
      reservationId: args.id,
      actualAmount: args.actualAmount,
      reason: args.reason,
      referenceId: args.referenceId,
    });
    return result.reservation;
  },
  releaseReservation: (_, args, ctx) => releaseReservation(ctx.scope, { tenantId: ctx.tenantId, reservationId: args.id }),
  grantSignupCredits: (_, args, ctx) => grantSignupCredits(ctx.scope, { tenantId: ctx.tenantId, userId: args.userId }),
};
