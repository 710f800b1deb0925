import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { TenantScopeError } from '@firefly/db';
import { closeRedis, createRedis } from '@firefly/redis';
import { createBillingContext } from '../context.ts';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { reserveCredits } from '../domain/reserve-credits.ts';
import { loadBillingConfig } from '../server.ts';
import { createBillingServices } from '../services.ts';
import { billingScope, newTenantId, newUserId, openTestDb, silentLogger, userIdentity } from './helpers.ts';

const db = openTestDb({ connectionLimit: 4 });
const redis = createRedis({ url: inject('redisUrl'), keyPrefix: inject('redisKeyPrefix'), name: 'billing-tenant-scope-test' });
afterAll(async () => {
  await db.$disconnect();
  await closeRedis(redis);
});

const deps = { db, redis, logger: silentLogger };
const services = createBillingServices(loadBillingConfig({ NODE_ENV: 'test', INTERNAL_TOKEN_SECRET: 'x'.repeat(64) }), deps, { get: (_key, environmentDefault) => environmentDefault });

function contextOf(tenantId: string, userId: string) {
  const identity = userIdentity(tenantId, userId);
  return createBillingContext(deps, services, { identity, tenantId, requestId: identity.requestId, logger: silentLogger });
}

describe('a request reaches its own tenant only, whatever its queries forget', () => {
  it("a query with no tenant filter (findReservation without a tenant, as the sweeper asks) finds no other tenant's row", async () => {
    const other = { tenantId: newTenantId(), userId: newUserId() };
    const jobs = billingScope(db);
    await adjustCredits(jobs, { ...other, delta: 50, note: 'funding', adminUserId: 'test' });
    const held = await reserveCredits(jobs, { ...other, amount: 10, referenceId: `job-${randomUUID()}`, ttlSeconds: 600, idempotencyKey: randomUUID() });

    // The process-wide store (the jobs') sees the row without a tenant filter...
    expect(await services.store.findReservation(held.id, null)).toMatchObject({ id: held.id, tenantId: other.tenantId });
    // ...a request of another tenant asking the same unfiltered question gets nothing.
    const request = contextOf(newTenantId(), newUserId());
    expect(await request.scope.store.findReservation(held.id, null)).toBeNull();
  });

  it("the credit store's raw statements (hold, settle, release) are confined to the request's tenant as well", async () => {
    const other = { tenantId: newTenantId(), userId: newUserId() };
    const jobs = billingScope(db);
    await adjustCredits(jobs, { ...other, delta: 50, note: 'funding', adminUserId: 'test' });
    const held = await reserveCredits(jobs, { ...other, amount: 10, referenceId: `job-${randomUUID()}`, ttlSeconds: 600, idempotencyKey: randomUUID() });

    const request = contextOf(newTenantId(), other.userId);
    // Closing by id without a tenant (as the sweeper may): the request's own tenant only, so nothing is found.
    expect(await request.scope.store.close({ id: held.id, tenantId: null }, { status: 'RELEASED', decide: () => ({ charged: 0, entry: null }) })).toEqual({ kind: 'missing' });
    // Naming the other tenant: refused, not carried out.
    await expect(request.scope.store.close({ id: held.id, tenantId: other.tenantId }, { status: 'RELEASED', decide: () => ({ charged: 0, entry: null }) })).rejects.toBeInstanceOf(TenantScopeError);
    await expect(request.scope.store.hold(other, { id: `rsv-${randomUUID()}`, amount: 5, referenceId: 'x', partnerId: null, expiresAt: new Date(Date.now() + 60_000) })).rejects.toBeInstanceOf(TenantScopeError);
    expect(await db.creditAccount.findUniqueOrThrow({ where: { tenantId_userId: other } })).toMatchObject({ available: 40, reserved: 10 });
    expect(await db.reservation.findUniqueOrThrow({ where: { id: held.id } })).toMatchObject({ status: 'HELD' });
  });

  it('a write that names another tenant is refused, not carried out', async () => {
    const request = contextOf(newTenantId(), newUserId());
    const victim = newTenantId();
    await expect(request.scope.store.ensureAccount(victim, newUserId())).rejects.toBeInstanceOf(TenantScopeError);
    expect(await db.creditAccount.count({ where: { tenantId: victim } })).toBe(0);
  });
});
