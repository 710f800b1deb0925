import { hiddenImageModels } from '../domain/tenant-image-models.ts';
import type { TenantOverridesResolvers } from '../generated/resolvers-types.ts';

/** The image subgraph's field of a tenant's overrides (tenantOverrides, billing's root field). */
export const TenantOverrides: TenantOverridesResolvers = {
  __resolveReference: (reference) => reference,
  hiddenImageModels: (parent, _, ctx) => hiddenImageModels(ctx.tenantCatalogAdmin, ctx, parent.tenantId),
};
