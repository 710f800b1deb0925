import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';

export const Mutation = {
  createImageJob: imageGenerationUnavailable,
  cancelImageJob: imageGenerationUnavailable,
  deleteImage: imageGenerationUnavailable,
  createUploadUrl: imageGenerationUnavailable,
};
