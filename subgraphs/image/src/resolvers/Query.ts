import { requireUserId, visibleToCaller } from '@firefly/server-kit';
import type { QueryResolvers } from '../generated/resolvers-types.ts';

export const Query: QueryResolvers = {
  imageModels: (_, __, ctx) => ctx.models.listActive(),
  /** Another user's (or tenant's) job answers null, exactly like a missing one. */
  imageJob: async (_, args, ctx) => visibleToCaller(ctx, await ctx.loaders.job.load(args.id)),
  imageJobs: (_, args, ctx) => ctx.loaders.jobPages.load(requireUserId(ctx), args),
};
