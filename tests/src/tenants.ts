// Tenants for e2e scenarios that need a second tenant: created the way the platform's own `createTenant` makes one
// visible (subgraphs/user/src/domain/tenants.ts) — the row and a bump of the tenants' revision in one transaction,
// then the whole state copied into Redis and announced (@firefly/platform-state) — and only returned once every
// gateway named serves the tenant. The gateway refuses a tenant its copy does not hold (gateway/src/modules/tenant.ts),
// so a row written straight into MySQL is not enough.
import { randomInt } from 'node:crypto';
import { transact, type Db } from '@firefly/db';
import { shareState, TENANTS_STATE } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { readTenantState } from '@firefly/subgraph-user/tenant-state';

/** How long a gateway may take to serve a new tenant: a deadline against a hang, not a latency bound (2 s rule + load). */
const VISIBLE_WITHIN_MS = 15_000;

/**
 * Creates the tenant unless it exists (the run's database is shared by every test file, so the same id may come
 * twice), shares the tenants with every gateway of this run's Redis prefix, and waits until each of `gateways`
 * (default: the supergraph's own) answers a request naming it with anything but `tenant_unknown`.
 */
export async function ensureTenant(
  target: { db: Db; redis: Redis; gatewayUrl?: string },
  id: string,
  options: { name?: string; gateways?: readonly string[] } = {},
): Promise<void> {
  await transact(target.db, async (tx) => {
    await tx.tenant.upsert({ where: { id }, create: { id, slug: id, name: options.name ?? id }, update: {} });
    await tx.stateRevision.upsert({ where: { kind: TENANTS_STATE }, create: { kind: TENANTS_STATE, revision: 1 }, update: { revision: { increment: 1 } } });
  });
  await shareState(target.redis, TENANTS_STATE, await readTenantState(target.db));
  await untilTenantServed(options.gateways ?? (target.gatewayUrl ? [target.gatewayUrl] : []), id);
}

/**
 * Waits until each gateway serves the tenant (after `createTenant` answered, a replica takes the change from Redis
 * within milliseconds, not at once).
 */
export async function untilTenantServed(gateways: readonly string[], tenantId: string): Promise<void> {
  await Promise.all(gateways.map((gateway) => untilServed(gateway, tenantId)));
}

/** Whether the gateway refuses the tenant as unknown (an anonymous `{ __typename }` from an IP of its own). */
async function refusedAsUnknown(gateway: string, tenantId: string): Promise<boolean> {
  const response = await fetch(gateway, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': tenantId, 'x-forwarded-for': `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}` },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = (await response.json()) as { errors?: Array<{ extensions?: { reason?: unknown } }> };
  return body.errors?.some((error) => error.extensions?.reason === 'tenant_unknown') ?? false;
}

async function untilServed(gateway: string, tenantId: string): Promise<void> {
  const deadline = Date.now() + VISIBLE_WITHIN_MS;
  while (await refusedAsUnknown(gateway, tenantId)) {
    if (Date.now() > deadline) throw new Error(`ensureTenant: ${gateway} still refuses tenant ${tenantId} as unknown after ${VISIBLE_WITHIN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
