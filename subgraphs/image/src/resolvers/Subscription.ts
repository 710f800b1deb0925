import { renewLoaders, type ImageContext } from '../context.ts';
import type { ImageJobRow } from '../data/jobs.ts';
import { watchImageJob } from '../domain/watch-image-job.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';

export const Subscription: SubscriptionResolvers = {
  imageJobUpdated: {
    /**
     * A failure to start (Redis or MySQL unreachable, a bug) is formatted by the server as over HTTP (server-kit's
     * graphql-ws error formatting): UPSTREAM_UNAVAILABLE naming the service, or masked and logged.
     */
    subscribe: (_, args, ctx) => watchImageJob(ctx, args.jobId),
    /** Each event resolves its fields (images) with fresh loaders: the subscription's context lives on. */
    resolve: (job: ImageJobRow, _args: unknown, ctx: ImageContext) => {
      renewLoaders(ctx);
      return job;
    },
  },
};
