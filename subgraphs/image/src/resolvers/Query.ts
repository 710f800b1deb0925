import { unauthenticated } from '@firefly/errors';
import type { ImageContext } from '../context.ts';
import type { ImageJobStatus } from '../data/jobs.ts';

function requireUserId(ctx: ImageContext): string {
  if (ctx.identity.kind !== 'user') throw unauthenticated();
  return ctx.identity.userId;
}

export const Query = {
  imageModels: (_: unknown, __: unknown, ctx: ImageContext) => ctx.models.listActive(),
  /** Another user's (or tenant's) job answers null, exactly like a missing one. */
  imageJob: async (_: unknown, args: { id: string }, ctx: ImageContext) => {
    const job = await ctx.loaders.job.load(args.id);
    const admin = ctx.identity.kind === 'user' && ctx.identity.roles.includes('ADMIN');
    return job && (job.userId === requireUserId(ctx) || admin) ? job : null;
  },
  imageJobs: (_: unknown, args: { first?: number; after?: string; status?: ImageJobStatus }, ctx: ImageContext) =>
    ctx.loaders.jobsOfUser.load({ userId: requireUserId(ctx), ...args }),
};
