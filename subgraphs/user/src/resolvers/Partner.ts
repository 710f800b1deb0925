import { loadRequired } from '@firefly/server-kit';
import { partnerUsage } from '../domain/partners.ts';
import type { PartnerResolvers } from '../generated/resolvers-types.ts';

export const Partner: PartnerResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.partner.load(reference.id),
  account: (partner, _, ctx) => loadRequired(ctx.loaders.user, partner.accountUserId, 'User'),
  apiKeys: (partner, _, ctx) => ctx.loaders.keys.load(partner.id),
  // Null until publishPersistedQueries published one.
  persistedQueryList: (partner, _, ctx) => ctx.loaders.persistedQueryList.load(partner.id),
  usage: (partner, args, ctx) => partnerUsage(ctx, partner, args.days),
};
