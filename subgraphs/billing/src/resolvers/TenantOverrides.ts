import type { TenantOverridesResolvers } from '../generated/resolvers-types.ts';
import { requirePlatformAdmin } from '../domain/tenant-prices.ts';

/** Billing's fields of a tenant's overrides: its own prices in force now (ADMINs of the platform tenant only). */
export const TenantOverrides: TenantOverridesResolvers = {
  __resolveReference: (reference) => reference,
  chatPrices: (parent, _, ctx) => {
    requirePlatformAdmin(ctx.tenantPrices, ctx);
    return ctx.tenantPrices.store.chatPricesOf(parent.tenantId);
  },
  imagePrices: (parent, _, ctx) => {
    requirePlatformAdmin(ctx.tenantPrices, ctx);
    return ctx.tenantPrices.store.imagePricesOf(parent.tenantId);
  },
};
