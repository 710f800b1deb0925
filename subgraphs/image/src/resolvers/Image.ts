import type { ImageContext } from '../context.ts';
import type { ImageRow } from '../data/images.ts';

export const Image = {
  __resolveReference: (reference: { id: string }, ctx: ImageContext) => ctx.loaders.image.load(reference.id),
  job: (image: ImageRow, _: unknown, ctx: ImageContext) => ctx.loaders.job.load(image.jobId),
  url: (image: ImageRow, _: unknown, ctx: ImageContext) => ctx.services.storage.publicUrl(image.storageKey),
};
