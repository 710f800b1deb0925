import { DEFAULT_TENANT_ID, transact, type BillingDb } from '@firefly/db';
import type { PriceSource } from '../domain/ports.ts';
import type { ChatPrice } from '../domain/pricing.ts';

/** The price that applies to every size of an image model without a row of its own (see the seed). */
const ANY_SIZE = '*';
/** Where the version of a price that existed before versioning starts (the migration backfills the same). */
const SINCE_ALWAYS = new Date('1970-01-02T00:00:00.000Z');

const chatSelect = { inputPer1kTokens: true, outputPer1kTokens: true } as const;

/**
 * ChatPrice / ImagePrice are global catalog rows (no tenantId) holding the current price; ChatPriceVersion /
 * ImagePriceVersion keep every price with the moment it came into force, so a charge can use the price of the
 * moment its credits were reserved (`at`). Without a version at or before `at` (a price seeded and never changed
 * since versioning began), the current row is that price. A tenant other than the platform's may have its own price
 * for a model (TenantChatPriceVersion / TenantImagePriceVersion, versioned the same way; tenant-prices.ts writes them).
 */
export function createPriceSource(db: BillingDb): PriceSource {
  /** The platform's chat price in force at `at` (default: now). */
  async function platformChatPrice(modelId: string, at: Date | undefined): Promise<ChatPrice | null> {
    if (at) {
      const version = await db.chatPriceVersion.findFirst({ where: { modelId, validFrom: { lte: at } }, orderBy: { validFrom: 'desc' }, select: chatSelect });
      if (version) return version;
    }
    return db.chatPrice.findUnique({ where: { modelId }, select: chatSelect });
  }

  async function platformImagePrice(modelId: string, size: string, at: Date | undefined): Promise<number | null> {
    if (at) {
      const versions = await db.imagePriceVersion.findMany({
        where: { modelId, size: { in: [size, ANY_SIZE] }, validFrom: { lte: at } },
        orderBy: { validFrom: 'desc' },
        select: { size: true, perImage: true, validFrom: true },
      });
      // The newest version wins (setImagePrice replaces every size's price); at the same moment a size's own beats `*`.
      const newest = versions[0];
      const version = newest && (versions.find((row) => row.size === size && row.validFrom.getTime() === newest.validFrom.getTime()) ?? newest);
      if (version) return version.perImage;
    }
    const rows = await db.imagePrice.findMany({ where: { modelId, size: { in: [size, ANY_SIZE] } }, select: { size: true, perImage: true } });
    return (rows.find((row) => row.size === size) ?? rows.find((row) => row.size === ANY_SIZE))?.perImage ?? null;
  }

  /** The tenant's override version in force at `at` (no `at`: the newest; none is ever written ahead of time). */
  const overrideAt = (tenantId: string, modelId: string, at: Date | undefined) => ({
    where: { tenantId, modelId, ...(at ? { validFrom: { lte: at } } : {}) },
    orderBy: { validFrom: 'desc' as const },
  });

  return {
    /**
     * A tenant with an override in force at `at` pays it; otherwise the platform's price. The platform tenant has no
     * overrides (its prices are the platform's), so its lookups cost no extra query; another tenant's override is
     * read in parallel with the platform's price.
     */
    async findChatPrice(tenantId, modelId, at) {
      if (tenantId === DEFAULT_TENANT_ID) return platformChatPrice(modelId, at);
      const [override, platform] = await Promise.all([
        db.tenantChatPriceVersion.findFirst({ ...overrideAt(tenantId, modelId, at), select: chatSelect }),
        platformChatPrice(modelId, at),
      ]);
      if (override && override.inputPer1kTokens !== null && override.outputPer1kTokens !== null) {
        return { inputPer1kTokens: override.inputPer1kTokens, outputPer1kTokens: override.outputPer1kTokens };
      }
      return platform;
    },
    /** As findChatPrice: a tenant's override is one price per image for every size. */
    async findImagePrice(tenantId, modelId, size, at) {
      if (tenantId === DEFAULT_TENANT_ID) return platformImagePrice(modelId, size, at);
      const [override, platform] = await Promise.all([
        db.tenantImagePriceVersion.findFirst({ ...overrideAt(tenantId, modelId, at), select: { perImage: true } }),
        platformImagePrice(modelId, size, at),
      ]);
      return override?.perImage ?? platform;
    },

    /**
     * Sets the current chat price and appends its version (valid from `now`) in one transaction. A price that had no
     * version yet gets one "since always" first, so reservations made before the change keep it.
     */
    async setChatPrice(modelId, price, now) {
      await transact(db, async (tx) => {
        const current = await tx.chatPrice.findUnique({ where: { modelId }, select: chatSelect });
        if (current && (await tx.chatPriceVersion.count({ where: { modelId } })) === 0) {
          await tx.chatPriceVersion.create({ data: { modelId, validFrom: SINCE_ALWAYS, ...current } });
        }
        await tx.chatPrice.upsert({ where: { modelId }, create: { modelId, ...price }, update: price });
        await tx.chatPriceVersion.upsert({ where: { modelId_validFrom: { modelId, validFrom: now } }, create: { modelId, validFrom: now, ...price }, update: price });
      });
    },

    /** The model's price per image for every size (`*`), versioned like setChatPrice. */
    async setImagePrice(modelId, perImage, now) {
      const size = ANY_SIZE;
      await transact(db, async (tx) => {
        const current = await tx.imagePrice.findUnique({ where: { modelId_size: { modelId, size } }, select: { perImage: true } });
        if (current && (await tx.imagePriceVersion.count({ where: { modelId, size } })) === 0) {
          await tx.imagePriceVersion.create({ data: { modelId, size, validFrom: SINCE_ALWAYS, perImage: current.perImage } });
        }
        // One price for every size: a size's own price (set in the database by hand) stops applying.
        await tx.imagePrice.deleteMany({ where: { modelId, size: { not: size } } });
        await tx.imagePrice.upsert({ where: { modelId_size: { modelId, size } }, create: { modelId, size, perImage }, update: { perImage } });
        const key = { modelId_size_validFrom: { modelId, size, validFrom: now } };
        await tx.imagePriceVersion.upsert({ where: key, create: { modelId, size, validFrom: now, perImage }, update: { perImage } });
      });
    },
  };
}
