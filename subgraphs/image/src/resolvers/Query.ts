import { requireUserId, visibleToCaller } from '@firefly/server-kit';
import type { ImageContext } from '../context.ts';
import type { ImageJobStatus } from '../data/jobs.ts';

export const Query = {
  imageModels: (_: unknown, __: unknown, ctx: ImageContext) => ctx.models.listActive(),
  /** Another user's (or tenant's) job answers null, exactly like a missing one. */
  imageJob: async (_: unknown, args: { id: string }, ctx: ImageContext) => visibleToCaller(ctx, await ctx.loaders.job.load(args.id)),
  imageJobs: (_: unknown, args: { first?: number; after?: string; status?: ImageJobStatus }, ctx: ImageContext) =>
    ctx.loaders.jobPages.load(requireUserId(ctx), args),
};
