import { requireUserId } from '@firefly/server-kit';
import type { ImageContext } from '../context.ts';
import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';
import { createUploadTicket } from '../domain/uploads.ts';

export const Mutation = {
  createImageJob: imageGenerationUnavailable,
  cancelImageJob: imageGenerationUnavailable,
  deleteImage: imageGenerationUnavailable,
  createUploadUrl: (_: unknown, args: { contentType: string; byteSize: number }, ctx: ImageContext) =>
    createUploadTicket(ctx.services, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args),
};
