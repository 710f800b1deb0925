import type { UserResolvers } from '../generated/resolvers-types.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  imageJobs: (user, args, ctx) => ctx.loaders.jobPages.load(user.id, args),
};
