import type { ImageModelResolvers } from '../generated/resolvers-types.ts';

export const ImageModel: ImageModelResolvers = {
  /** IMAGE_REFERENCE_MODELS: the models DashScope takes `ref_img` from. */
  acceptsReferenceImage: (model, _, ctx) => ctx.services.referenceModels.has(model.id),
};
