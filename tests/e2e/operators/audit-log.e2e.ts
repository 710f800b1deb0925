// The audit log: every admin action of every subgraph is appended (in the change's transaction) and readable by
// the tenant's admins through auditEvents, newest first, filtered by action and paginated; nobody else may read it,
// another tenant's events never show, and the table refuses UPDATE and DELETE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCT_IDS } from '@firefly/db/seed';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { ensureTenant } from '../../src/tenants.ts';

const AUDIT = `query Audit($first: Int, $after: String, $action: String) {
  auditEvents(first: $first, after: $after, action: $action) {
    edges { cursor node { id action targetType targetId at details actor { id displayName } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

let sg: Supergraph;
let admin: SeededUser;
let adminToken: string;
let target: SeededUser;
let targetToken: string;

beforeAll(async () => {
  sg = await startSupergraph();
  admin = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
  adminToken = await sg.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
  target = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 10 });
  targetToken = await sg.tokenFor(target.user);
}, 120_000);
afterAll(() => sg?.stop());

type AuditNode = { id: string; action: string; targetType: string | null; targetId: string | null; at: string; details: any; actor: { id: string } | null };

async function eventsOf(targetId: string, action?: string): Promise<AuditNode[]> {
  const answer = await sg.request(AUDIT, { token: adminToken, variables: { first: 100, action } });
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data!.auditEvents.edges as Array<{ node: AuditNode }>).map((edge) => edge.node).filter((node) => node.targetId === targetId);
}

describe('auditEvents', () => {
  it('records every admin mutation of the user and billing subgraphs: who, what, before and after', async () => {
    const ok = async (query: string, variables: Record<string, unknown>) => {
      const answer = await sg.request(query, { token: adminToken, variables });
      expect(answer.body.errors).toBeUndefined();
      return answer.body.data!;
    };
    await ok('mutation R($id: ID!) { setUserRoles(userId: $id, roles: [USER, ADMIN]) { id } }', { id: target.user.id });
    await ok('mutation S($id: ID!) { setUserStatus(userId: $id, status: SUSPENDED) { id } }', { id: target.user.id });
    await ok('mutation A($id: ID!) { adjustCredits(userId: $id, delta: 25, note: "goodwill") { available } }', { id: target.user.id });
    const product = (await ok('mutation P($input: ProductInput!) { upsertProduct(input: $input) { id } }', { input: { name: 'Audit pack', credits: 10, priceFen: 100 } }))
      .upsertProduct.id as string;
    await ok('mutation P($input: ProductInput!) { upsertProduct(input: $input) { id } }', { input: { id: product, name: 'Audit pack', credits: 10, priceFen: 100, active: false } });

    const userEvents = await eventsOf(target.user.id);
    expect(userEvents.map((event) => event.action)).toEqual(['adjustCredits', 'setUserStatus', 'setUserRoles']);
    const [adjusted, suspended, promoted] = userEvents;
    for (const event of userEvents) {
      expect(event.actor).toMatchObject({ id: admin.user.id });
      expect(event.targetType).toBe('User');
      expect(Date.now() - Date.parse(event.at)).toBeLessThan(60_000);
    }
    expect(promoted!.details).toEqual({ before: { roles: 'USER' }, after: { roles: 'USER,ADMIN' } });
    expect(suspended!.details).toEqual({ before: { status: 'ACTIVE' }, after: { status: 'SUSPENDED' } });
    expect(adjusted!.details).toMatchObject({ delta: 25, note: 'goodwill', available: 35 });

    const productEvents = await eventsOf(product, 'upsertProduct');
    expect(productEvents).toHaveLength(2);
    expect(productEvents[0]!.details).toMatchObject({ before: { active: true }, after: { active: false } });
    expect(productEvents[1]!.details).toMatchObject({ before: null, after: { id: product, name: 'Audit pack', credits: 10, priceFen: 100, active: true } });

    // The filter: only that action.
    const onlyRoles = await sg.request(AUDIT, { token: adminToken, variables: { first: 100, action: 'setUserRoles' } });
    expect(new Set(onlyRoles.body.data!.auditEvents.edges.map((edge: { node: AuditNode }) => edge.node.action))).toEqual(new Set(['setUserRoles']));
  });

  it('records a refund made through the gateway: the admin, the order, how much and why', async () => {
    const buyer = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const buyerToken = await sg.tokenFor(buyer.user);
    const created = await sg.request('mutation O($p: ID!) { createOrder(productId: $p, channel: ALIPAY) { id payment { payUrl } } }', {
      token: buyerToken,
      variables: { p: PRODUCT_IDS.CREDITS_550 },
    });
    expect(created.body.errors).toBeUndefined();
    const order = created.body.data!.createOrder as { id: string; payment: { payUrl: string } };
    expect((await fetch(order.payment.payUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' })).status).toBe(200);
    const status = async () => (await sg.request('query Q($id: ID!) { order(id: $id) { status } }', { token: buyerToken, variables: { id: order.id } })).body.data?.order?.status;
    await expect.poll(status, { timeout: 15_000, interval: 200 }).toBe('PAID');

    const refunded = await sg.request('mutation R($id: ID!) { refundOrder(id: $id, amountFen: 1000, reason: "audited refund") { status refundedFen } }', {
      token: adminToken,
      variables: { id: order.id },
    });
    expect(refunded.body.errors).toBeUndefined();
    const events = await eventsOf(order.id, 'refundOrder');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetType: 'Order', actor: { id: admin.user.id }, details: { amountFen: 1000, reason: 'audited refund', statusBefore: 'PAID' } });
  });

  it('pages newest first with cursors, without repeating or skipping an event', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await sg.request('mutation A($id: ID!, $note: String!) { adjustCredits(userId: $id, delta: 1, note: $note) { available } }', {
        token: adminToken,
        variables: { id: target.user.id, note: `page ${i}` },
      });
      expect(answer.body.errors).toBeUndefined();
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const answer = await sg.request(AUDIT, { token: adminToken, variables: { first: 2, after, action: 'adjustCredits' } });
      const connection = answer.body.data!.auditEvents as { edges: Array<{ node: AuditNode }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      seen.push(...connection.edges.map((edge) => edge.node.details.note as string));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen.slice(0, 5)).toEqual(['page 4', 'page 3', 'page 2', 'page 1', 'page 0']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('is for admins only, and each tenant sees only its own', async () => {
    const user = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const refused = await sg.request(AUDIT, { token: await sg.tokenFor(user.user), variables: {} });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.body.data ?? null).toBeNull();
    expect((await sg.request(AUDIT, { variables: {} })).body.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    // The target was suspended above; a user's own token does not open it either.
    expect((await sg.request(AUDIT, { token: targetToken, variables: {} })).body.data?.auditEvents ?? null).toBeNull();

    await ensureTenant(sg, 'audit-b', { name: 'Audit B' });
    const otherAdmin = await seedUserWithHistory(sg.db, { tenantId: 'audit-b', conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: otherAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
    const theirs = await sg.request(AUDIT, {
      token: await sg.tokenFor({ ...otherAdmin.user, roles: ['USER', 'ADMIN'] }),
      headers: { 'x-tenant-id': 'audit-b' },
      variables: { first: 100 },
    });
    expect(theirs.body.errors).toBeUndefined();
    expect(theirs.body.data!.auditEvents.edges).toEqual([]);
  });

  it('cannot be altered: the database refuses UPDATE and DELETE of an event', async () => {
    const [event] = await eventsOf(target.user.id, 'setUserRoles');
    await expect(sg.db.$executeRawUnsafe('UPDATE `AuditEvent` SET `action` = ? WHERE `id` = ?', 'nothing', event!.id)).rejects.toThrow(/append-only/);
    await expect(sg.db.$executeRawUnsafe('DELETE FROM `AuditEvent` WHERE `id` = ?', event!.id)).rejects.toThrow(/append-only/);
    expect(await eventsOf(target.user.id, 'setUserRoles')).toHaveLength(1);
  });

  it('records sign-ins and revocations, with the user as the actor', async () => {
    const email = `audit-${Date.now().toString(36)}@example.com`;
    const registered = await sg.request('mutation R($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }', {
      variables: { input: { email, password: 'Lantern-Festival-2026!x', displayName: 'Audited' } },
    });
    expect(registered.body.errors).toBeUndefined();
    const { accessToken, user } = registered.body.data!.register as { accessToken: string; user: { id: string } };
    const login = await sg.request('mutation L($input: LoginInput!) { login(input: $input) { accessToken } }', { variables: { input: { login: email, password: 'Lantern-Festival-2026!x' } } });
    expect(login.body.errors).toBeUndefined();
    expect((await sg.request('mutation { logout }', { token: accessToken })).body.data).toEqual({ logout: true });

    const answer = await sg.request(AUDIT, { token: adminToken, variables: { first: 100 } });
    const mine = (answer.body.data!.auditEvents.edges as Array<{ node: AuditNode }>).map((edge) => edge.node).filter((node) => node.actor?.id === user.id);
    expect(mine.map((node) => node.action)).toEqual(['logout', 'login', 'register']);
    expect(mine[2]).toMatchObject({ targetType: 'Session' });
    expect(mine[0]).toMatchObject({ targetType: 'User', targetId: user.id, details: { reason: 'logout' } });
    // No secret or personal identifier is written with them.
    const raw = JSON.stringify(await sg.db.auditEvent.findMany({ where: { actor: user.id } }));
    expect(raw).not.toContain(email);
    expect(raw).not.toContain('Lantern-Festival');
    expect(raw).not.toContain(accessToken);
  });
});
