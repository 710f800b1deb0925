import { requireUserId } from '@firefly/server-kit';
import { createImageJob } from '../domain/create-image-job.ts';
import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';
import { createUploadTicket } from '../domain/uploads.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

export const Mutation: MutationResolvers = {
  createImageJob: (_, args, ctx) => createImageJob(ctx, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args.input),
  cancelImageJob: imageGenerationUnavailable,
  deleteImage: imageGenerationUnavailable,
  createUploadUrl: (_, args, ctx) => createUploadTicket(ctx.services, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args),
};
