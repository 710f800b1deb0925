import type { ConversationDb } from '@firefly/db';
import type { SettlementOutbox } from '../generation/ports.ts';

const MAX_ERROR_LENGTH = 512;

/** The settlement outbox over the PendingSettlement table, across tenants (every row names its tenant). */
export function createSettlementOutbox(db: ConversationDb): SettlementOutbox {
  return {
    async park(settlement, error, nextAttemptAt) {
      const row = {
        tenantId: settlement.tenantId,
        messageId: settlement.messageId,
        modelId: settlement.modelId,
        inputTokens: settlement.usage?.inputTokens ?? null,
        outputTokens: settlement.usage?.outputTokens ?? null,
        nextAttemptAt,
        lastError: error.slice(0, MAX_ERROR_LENGTH),
      };
      await db.pendingSettlement.upsert({ where: { reservationId: settlement.reservationId }, create: { reservationId: settlement.reservationId, ...row }, update: row });
    },
    async due(now, limit) {
      const rows = await db.pendingSettlement.findMany({ where: { nextAttemptAt: { lte: now } }, orderBy: { nextAttemptAt: 'asc' }, take: limit });
      return rows.map((row) => ({
        reservationId: row.reservationId,
        tenantId: row.tenantId,
        messageId: row.messageId,
        modelId: row.modelId,
        usage: row.inputTokens !== null && row.outputTokens !== null ? { inputTokens: row.inputTokens, outputTokens: row.outputTokens } : null,
        attempts: row.attempts,
      }));
    },
    async reschedule(reservationId, attempts, nextAttemptAt, error) {
      await db.pendingSettlement.updateMany({ where: { reservationId }, data: { attempts, nextAttemptAt, lastError: error.slice(0, MAX_ERROR_LENGTH) } });
    },
    async complete(settlement, creditsCharged) {
      if (creditsCharged !== null) {
        await db.message.updateMany({ where: { id: settlement.messageId, tenantId: settlement.tenantId, creditsCharged: null }, data: { creditsCharged } });
      }
      await db.pendingSettlement.deleteMany({ where: { reservationId: settlement.reservationId } });
    },
    count() {
      return db.pendingSettlement.count();
    },
  };
}
