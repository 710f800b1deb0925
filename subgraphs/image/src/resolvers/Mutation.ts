import { auditBy, requireUserId } from '@firefly/server-kit';
import { cancelImageJob, deleteImage } from '../domain/cancel-and-delete.ts';
import { createImageJob } from '../domain/create-image-job.ts';
import { setTenantImageModel } from '../domain/tenant-image-models.ts';
import { upsertImageModel } from '../domain/upsert-image-model.ts';
import { createUploadTicket } from '../domain/uploads.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

export const Mutation: MutationResolvers = {
  createImageJob: (_, args, ctx) => createImageJob(ctx, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args.input),
  cancelImageJob: (_, args, ctx) => cancelImageJob(ctx, args.id),
  deleteImage: (_, args, ctx) => deleteImage(ctx, args.id),
  upsertImageModel: (_, args, ctx) => upsertImageModel(ctx.catalogAdmin, auditBy(ctx), args.input),
  setTenantImageModel: (_, args, ctx) => setTenantImageModel(ctx.tenantCatalogAdmin, auditBy(ctx), args.input),
  createUploadUrl: (_, args, ctx) => createUploadTicket(ctx.services, { tenantId: ctx.tenantId, userId: requireUserId(ctx) }, args),
};
