import { requireUserId } from '@firefly/server-kit';
import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';
import { createUploadTicket } from '../domain/uploads.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

export const Mutation: MutationResolvers = {
  createImageJob: imageGenerationUnavailable,
  cancelImageJob: imageGenerationUnavailable,
  deleteImage: imageGenerationUnavailable,
  createUploadUrl: (_, args, ctx) => createUploadTicket(ctx.services, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args),
};
