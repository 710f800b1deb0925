import type { ImageContext } from '../context.ts';
import type { ImageJobRow } from '../data/jobs.ts';

export const ImageJob = {
  __resolveReference: (reference: { id: string }, ctx: ImageContext) => ctx.loaders.job.load(reference.id),
  owner: (job: ImageJobRow) => ({ __typename: 'User', id: job.userId }),
  images: (job: ImageJobRow, _: unknown, ctx: ImageContext) => ctx.loaders.imagesOfJob.load(job.id),
};
