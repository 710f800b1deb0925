import { internalError, isAppError } from '@firefly/errors';
import { renewLoaders, type ImageContext } from '../context.ts';
import type { ImageJobRow } from '../data/jobs.ts';
import { watchImageJob } from '../domain/watch-image-job.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';

export const Subscription: SubscriptionResolvers = {
  imageJobUpdated: {
    /**
     * graphql-ws sends subscribe-time errors as they are (Apollo's formatError does not run on this path), so
     * anything that is not one of our typed errors is masked here and logged.
     */
    subscribe: async (_, args, ctx) => {
      try {
        return await watchImageJob(ctx, args.jobId);
      } catch (error) {
        if (isAppError(error)) throw error;
        ctx.logger.error({ err: error }, 'imageJobUpdated could not start');
        throw internalError();
      }
    },
    /** Each event resolves its fields (images) with fresh loaders: the subscription's context lives on. */
    resolve: (job: ImageJobRow, _args: unknown, ctx: ImageContext) => {
      renewLoaders(ctx);
      return job;
    },
  },
};
