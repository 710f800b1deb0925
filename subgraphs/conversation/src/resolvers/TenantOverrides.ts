import { hiddenChatModels } from '../domain/tenant-chat-models.ts';
import type { TenantOverridesResolvers } from '../generated/resolvers-types.ts';

/** The conversation subgraph's field of a tenant's overrides (tenantOverrides, billing's root field). */
export const TenantOverrides: TenantOverridesResolvers = {
  __resolveReference: (reference) => reference,
  hiddenChatModels: (parent, _, ctx) => hiddenChatModels(ctx.tenantCatalogAdmin, ctx, parent.tenantId),
};
