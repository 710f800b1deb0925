import type { ImageContext } from '../context.ts';

export const User = {
  __resolveReference: (reference: { id: string }) => reference,
  imageJobs: (user: { id: string }, args: { first?: number; after?: string }, ctx: ImageContext) =>
    ctx.loaders.jobPages.load(user.id, args),
};
