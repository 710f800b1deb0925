import { CREDENTIAL_HEADER, type Identity } from '@firefly/auth';
import type { Logger } from '@firefly/logger';

const RECORD = `mutation RecordPartnerKeyUse($uses: [PartnerKeyUseInput!]!) { recordPartnerKeyUse(uses: $uses) }`;

/**
 * `lastUsedAt` without a write per request: each replica remembers the latest use of every key in memory and sends
 * them to the user subgraph in one call per tenant every `flushMs` (and on stop). The subgraph only ever moves
 * lastUsedAt forward, so replicas flushing in any order agree.
 */
export function createKeyUsageRecorder(options: {
  userSubgraphUrl: string;
  signCredential: (identity: Identity) => Promise<string>;
  logger: Logger;
  flushMs: number;
  timeoutMs: number;
}) {
  let pending = new Map<string, Map<string, Date>>();

  async function flush(): Promise<void> {
    const batch = pending;
    pending = new Map();
    for (const [tenantId, uses] of batch) {
      try {
        const credential = await options.signCredential({ kind: 'service', tenantId, requestId: `key-use-${Date.now()}`, service: 'gateway' });
        const response = await fetch(options.userSubgraphUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: credential },
          body: JSON.stringify({ query: RECORD, variables: { uses: [...uses].map(([id, at]) => ({ id, at: at.toISOString() })) } }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const body = (await response.json()) as { errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
      } catch (error) {
        // Not worth retrying hard: the next use of the key records it again.
        options.logger.warn({ err: error, tenantId, keys: uses.size }, 'could not record when partner keys were last used');
      }
    }
  }

  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();

  return {
    used(tenantId: string, keyId: string): void {
      let uses = pending.get(tenantId);
      if (!uses) pending.set(tenantId, (uses = new Map()));
      uses.set(keyId, new Date());
    },
    flush,
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}
