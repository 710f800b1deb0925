import type { JobDefinition } from '@firefly/server-kit';
import { reconcileOrder, type ReconcileDeps, type ReconcileOutcome } from '../domain/reconcile.ts';
import { finishRefund } from '../domain/refunds.ts';

/**
 * Reconciliation and expiry in one job: every `everyMs`, the PENDING orders older than `afterSeconds` (oldest first,
 * at most `batchSize`) are checked with the provider's query API (Alipay `alipay.trade.query`, WeChat Pay query by
 * out_trade_no) and settled, closed or left waiting (domain/reconcile.ts). Any number of replicas may run it: every
 * change is a conditional update. A failure on one order is logged and the others go on.
 */
export function reconcileOrdersJob(
  deps: ReconcileDeps & { everyMs: number; afterSeconds: number; batchSize: number; onOutcome?: (channel: string, outcome: ReconcileOutcome) => void },
): JobDefinition {
  return {
    name: 'reconcile-orders',
    trigger: { kind: 'interval', everyMs: deps.everyMs },
    async handler({ logger }) {
      const now = deps.now?.() ?? new Date();
      const orders = await deps.orders.listPendingBefore(new Date(now.getTime() - deps.afterSeconds * 1_000), deps.batchSize);
      for (const order of orders) {
        try {
          const outcome = await reconcileOrder({ ...deps, logger }, order);
          deps.onOutcome?.(order.channel, outcome);
          if (outcome !== 'waiting') logger.info({ orderId: order.id, channel: order.channel, outcome }, 'order reconciled with the provider');
        } catch (error) {
          logger.warn({ err: error, orderId: order.id, channel: order.channel }, 'could not reconcile an order; next round tries again');
        }
      }
      // Refunds whose outcome was not known when they were asked for (timeouts, WeChat's PROCESSING).
      for (const refund of await deps.orders.listProcessingRefunds(deps.batchSize)) {
        try {
          const order = await deps.orders.findById(refund.orderId);
          const provider = order ? deps.providers[order.channel] : undefined;
          if (!order || !provider) continue;
          await finishRefund({ ...deps, logger }, refund.id, await provider.refundStatus({ outTradeNo: order.outTradeNo, outRefundNo: refund.outRefundNo }));
        } catch (error) {
          logger.warn({ err: error, refundId: refund.id }, 'could not check a refund; next round tries again');
        }
      }
      return orders.length;
    },
  };
}
