import { internalError } from '@firefly/errors';

/**
 * Image generation (jobs, the BullMQ worker, uploads) is a later issue. Until then every write says so plainly
 * instead of failing on a null non-null field.
 */
const notYet = () => {
  throw internalError('Image generation is not available yet');
};

export const Mutation = {
  createImageJob: notYet,
  cancelImageJob: notYet,
  deleteImage: notYet,
  createUploadUrl: notYet,
};

export const Subscription = {
  imageJobUpdated: { subscribe: notYet },
};
