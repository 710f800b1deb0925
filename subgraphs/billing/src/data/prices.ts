import type { BillingDb } from '@firefly/db';
import type { PriceSource } from '../domain/ports.ts';

/** The price that applies to every size of an image model without a row of its own (see the seed). */
const ANY_SIZE = '*';

/** ChatPrice / ImagePrice are global catalog rows (no tenantId). */
export function createPriceSource(db: BillingDb): PriceSource {
  return {
    findChatPrice: (modelId) => db.chatPrice.findUnique({ where: { modelId }, select: { inputPer1kTokens: true, outputPer1kTokens: true } }),
    async findImagePrice(modelId, size) {
      const rows = await db.imagePrice.findMany({ where: { modelId, size: { in: [size, ANY_SIZE] } }, select: { size: true, perImage: true } });
      return (rows.find((row) => row.size === size) ?? rows.find((row) => row.size === ANY_SIZE))?.perImage ?? null;
    },
  };
}
