import { randomUUID } from 'node:crypto';
import { CREDENTIAL_HEADER, createCredentialSigner } from '@firefly/auth';
import type { OrderPaidSmsPort } from '../domain/order-paid-notices.ts';

const SEND_ORDER_PAID_SMS = `mutation SendOrderPaidSms($orderId: ID!, $userId: ID!, $credits: Int!, $amountFen: Int!) {
  sendOrderPaidSms(orderId: $orderId, userId: $userId, credits: $credits, amountFen: $amountFen)
}`;

/**
 * The user subgraph's service-only `sendOrderPaidSms`, called with a service credential (`service: billing`) for the
 * order's tenant, as the other subgraphs call billing (packages/credits-client). One attempt per call, no retries of
 * its own: the outbox (domain/order-paid-notices.ts) retries with backoff. Hand-written over `fetch` (one operation).
 */
export function createUserSmsClient(options: { url: string; secret: string; timeoutMs?: number; fetch?: typeof fetch }): OrderPaidSmsPort {
  const sign = createCredentialSigner({ secret: options.secret, issuer: 'billing' });
  const doFetch = options.fetch ?? fetch;
  return {
    async send({ tenantId, ...variables }) {
      const credential = await sign({ kind: 'service', tenantId, requestId: randomUUID(), service: 'billing' });
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [CREDENTIAL_HEADER]: credential },
        body: JSON.stringify({ operationName: 'SendOrderPaidSms', query: SEND_ORDER_PAID_SMS, variables }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const body = (await response.json().catch(() => null)) as { data?: { sendOrderPaidSms?: unknown } | null; errors?: Array<{ message?: string; extensions?: { code?: unknown } }> } | null;
      const error = body?.errors?.[0];
      if (error) throw new Error(`user subgraph: ${String(error.extensions?.code ?? 'ERROR')}: ${error.message ?? ''}`);
      const outcome = body?.data?.sendOrderPaidSms;
      if (!response.ok || typeof outcome !== 'string') throw new Error(`user subgraph answered HTTP ${response.status}`);
      return outcome;
    },
  };
}
