import { transact, type BillingDb } from '@firefly/db';
import type { PriceSource } from '../domain/ports.ts';

/** The price that applies to every size of an image model without a row of its own (see the seed). */
const ANY_SIZE = '*';
/** Where the version of a price that existed before versioning starts (the migration backfills the same). */
const SINCE_ALWAYS = new Date('1970-01-02T00:00:00.000Z');

const chatSelect = { inputPer1kTokens: true, outputPer1kTokens: true } as const;

/**
 * ChatPrice / ImagePrice are global catalog rows (no tenantId) holding the current price; ChatPriceVersion /
 * ImagePriceVersion keep every price with the moment it came into force, so a charge can use the price of the
 * moment its credits were reserved (`at`). Without a version at or before `at` (a price seeded and never changed
 * since versioning began), the current row is that price.
 */
export function createPriceSource(db: BillingDb): PriceSource {
  return {
    async findChatPrice(modelId, at) {
      if (at) {
        const version = await db.chatPriceVersion.findFirst({ where: { modelId, validFrom: { lte: at } }, orderBy: { validFrom: 'desc' }, select: chatSelect });
        if (version) return version;
      }
      return db.chatPrice.findUnique({ where: { modelId }, select: chatSelect });
    },
    async findImagePrice(modelId, size, at) {
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
