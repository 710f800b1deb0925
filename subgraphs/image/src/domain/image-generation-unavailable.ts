import { notImplemented } from '@firefly/errors';

/**
 * Image generation (jobs, the worker, uploads) is not live yet: every write and the job subscription say so with
 * NOT_IMPLEMENTED instead of failing on a null result.
 */
export function imageGenerationUnavailable(): never {
  throw notImplemented('image-generation', 'Image generation is not available yet');
}
