import { CREDENTIAL_HEADER, type Identity } from '@firefly/auth';
import type { Logger } from '@firefly/logger';

const RECORD = `mutation RecordPartnerUse($uses: [PartnerKeyUseInput!]!, $usage: [PartnerUsageInput!]!) {
  recordPartnerKeyUse(uses: $uses)
  recordPartnerUsage(usage: $usage)
}`;

/** Whom a partner's request acted as (the user subgraph's PartnerActingAs). */
export type ActingAs = 'ACCOUNT' | 'USER';

/** One operation a partner's key ran, as the partners module saw it end. */
export interface PartnerOperationUse {
  tenantId: string;
  partnerId: string;
  /** The listed operation's id. */
  operationId: string;
  operationName: string;
  actingAs: ActingAs;
  failed: boolean;
  at: Date;
}

interface UsageCount {
  partnerId: string;
  /** Midnight UTC of the day, ISO 8601. */
  day: string;
  operationId: string;
  operationName: string;
  actingAs: ActingAs;
  requests: number;
  errors: number;
}

interface TenantBatch {
  uses: Map<string, Date>;
  usage: Map<string, UsageCount>;
}

const dayOf = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())).toISOString();

/**
 * What partners' keys did, without a write per request: each replica keeps in memory the latest use of every key
 * (`lastUsedAt`) and the count of operations per partner, UTC day, listed operation and whom the request acted as
 * (the partner's account, or a user whose bearer token came with the key), and sends both to the user subgraph in one
 * call per tenant every `flushMs` (and on stop). lastUsedAt only ever moves forward there and the counts are added, so
 * replicas flushing in any order agree. A flush that fails keeps its counts for the next one (a lost answer to a call
 * that did arrive can then count them twice; a count is never dropped while the process lives); lastUsedAt is simply
 * recorded again by the key's next use.
 */
export function createKeyUsageRecorder(options: {
  userSubgraphUrl: string;
  signCredential: (identity: Identity) => Promise<string>;
  logger: Logger;
  flushMs: number;
  timeoutMs: number;
}) {
  let pending = new Map<string, TenantBatch>();
  const batchOf = (tenantId: string) => {
    let batch = pending.get(tenantId);
    if (!batch) pending.set(tenantId, (batch = { uses: new Map(), usage: new Map() }));
    return batch;
  };
  const add = (usage: Map<string, UsageCount>, count: UsageCount) => {
    const id = `${count.partnerId}\u0000${count.day}\u0000${count.operationId}\u0000${count.actingAs}`;
    const held = usage.get(id);
    if (held) {
      held.requests += count.requests;
      held.errors += count.errors;
      held.operationName = count.operationName;
    } else usage.set(id, { ...count });
  };

  async function flush(): Promise<void> {
    const batches = pending;
    pending = new Map();
    for (const [tenantId, batch] of batches) {
      try {
        const credential = await options.signCredential({ kind: 'service', tenantId, requestId: `key-use-${Date.now()}`, service: 'gateway' });
        const response = await fetch(options.userSubgraphUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: credential },
          body: JSON.stringify({
            query: RECORD,
            variables: { uses: [...batch.uses].map(([id, at]) => ({ id, at: at.toISOString() })), usage: [...batch.usage.values()] },
          }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const body = (await response.json()) as { errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
      } catch (error) {
        options.logger.warn({ err: error, tenantId, keys: batch.uses.size, usageRows: batch.usage.size }, 'could not record partner key use; the counts wait for the next flush');
        const retry = batchOf(tenantId).usage;
        for (const count of batch.usage.values()) add(retry, count);
      }
    }
  }

  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();

  return {
    /** The key was accepted for a request (lastUsedAt). */
    used(tenantId: string, keyId: string): void {
      batchOf(tenantId).uses.set(keyId, new Date());
    },
    /** A listed operation ran with a partner's key. */
    ran(use: PartnerOperationUse): void {
      add(batchOf(use.tenantId).usage, {
        partnerId: use.partnerId,
        day: dayOf(use.at),
        operationId: use.operationId,
        operationName: use.operationName,
        actingAs: use.actingAs,
        requests: 1,
        errors: use.failed ? 1 : 0,
      });
    },
    flush,
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}
