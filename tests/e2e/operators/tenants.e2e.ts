// Tenants managed through the API by platform admins (ADMINs of `default`): a tenant created with a host takes that
// host's requests on both gateway replicas; remapping moves them; a suspended tenant's users are refused (FORBIDDEN)
// on both replicas, and let in again once reactivated; nobody else may do any of it; every action is audited.
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { LOGIN, REGISTER, STRONG_PASSWORD, uniqueEmail, uniqueIp } from '../../src/identity-helpers.ts';
import { untilTenantServed } from '../../src/tenants.ts';

const TENANT_FIELDS = 'id name status hosts createdAt updatedAt';
const CREATE = `mutation C($input: CreateTenantInput!) { createTenant(input: $input) { ${TENANT_FIELDS} } }`;
const SET_HOSTS = `mutation H($id: ID!, $hosts: [String!]!) { setTenantHosts(id: $id, hosts: $hosts) { ${TENANT_FIELDS} } }`;
const SET_STATUS = `mutation S($id: ID!, $status: TenantStatus!) { setTenantStatus(id: $id, status: $status) { ${TENANT_FIELDS} } }`;
const TENANTS = `{ tenants { ${TENANT_FIELDS} } }`;
const ME = '{ me { id } }';
const AUDIT = `query A($action: String) { auditEvents(first: 100, action: $action) { edges { node { action targetType targetId details actor { id } } } } }`;

let sg: Supergraph;
/** A second gateway replica on the same subgraphs and Redis. */
let replicaUrl: string;
let platformAdmin: SeededUser;
let platformToken: string;

beforeAll(async () => {
  sg = await startSupergraph();
  replicaUrl = await sg.startGateway();
  platformAdmin = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: platformAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
  platformToken = await sg.tokenFor({ ...platformAdmin.user, roles: ['USER', 'ADMIN'] });
}, 120_000);
afterAll(() => sg?.stop());

/** POSTs to a gateway with a Host header of our choosing (fetch cannot set Host). */
function post(gatewayUrl: string, query: string, options: { host?: string; token?: string; variables?: Record<string, unknown>; ip?: string } = {}): Promise<GraphQLResponse> {
  const url = new URL(gatewayUrl);
  const body = JSON.stringify({ query, variables: options.variables });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          host: options.host ?? url.host,
          'x-forwarded-for': options.ip ?? uniqueIp(),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphQLResponse['body'] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const codeOf = (answer: GraphQLResponse) => answer.body.errors?.[0]?.extensions?.code as string | undefined;
const asPlatform = (query: string, variables?: Record<string, unknown>) => sg.request(query, { token: platformToken, ...(variables ? { variables } : {}) });
const bothGateways = () => [sg.gatewayUrl, replicaUrl];
/** Waits (on events, not a clock) until a replica has taken a change: it arrives by Redis pub/sub within milliseconds. */
const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 20_000, interval: 25 });

describe('tenants through the gateway', () => {
  it('a tenant created with a host takes that host on both replicas; remapping moves it; suspension refuses its users on both', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const host = `${id}.tenants.example.com`;
    const created = await asPlatform(CREATE, { input: { id, name: 'Acme Lanterns', hosts: [host.toUpperCase()] } });
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createTenant).toMatchObject({ id, name: 'Acme Lanterns', status: 'ACTIVE', hosts: [host] });
    expect(((await asPlatform(TENANTS)).body.data!.tenants as Array<{ id: string }>).map((t) => t.id)).toEqual(expect.arrayContaining(['default', id]));

    // A user of the new tenant: their token is good on the tenant's host only (tokens are bound to their tenant).
    const member = await seedUserWithHistory(sg.db, { tenantId: id, conversations: 0, imageJobs: 0, credits: 0 });
    const memberToken = await sg.tokenFor(member.user);
    const startedWaiting = Date.now();
    for (const gateway of bothGateways()) {
      await eventually(async () => expect((await post(gateway, ME, { host, token: memberToken })).body.data?.me).toEqual({ id: member.user.id }));
    }
    const mappedWithinMs = Date.now() - startedWaiting;
    expect(codeOf(await post(sg.gatewayUrl, ME, { token: memberToken }))).toBe('UNAUTHENTICATED');

    // Signing up on the host creates the account in the new tenant.
    const email = uniqueEmail('tenant');
    const registered = await post(replicaUrl, REGISTER, { host, variables: { input: { email, password: STRONG_PASSWORD, displayName: 'On the host' } } });
    expect(registered.body.errors).toBeUndefined();
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: registered.body.data!.register.user.id as string } })).tenantId).toBe(id);

    // Remapped: the new host leads to the tenant, the old one no longer does (it falls back to `default`).
    const newHost = `chat.${id}.example.org`;
    const remapped = await asPlatform(SET_HOSTS, { id, hosts: [newHost] });
    expect(remapped.body.data!.setTenantHosts).toMatchObject({ id, hosts: [newHost] });
    for (const gateway of bothGateways()) {
      await eventually(async () => expect((await post(gateway, ME, { host: newHost, token: memberToken })).body.data?.me).toEqual({ id: member.user.id }));
      expect(codeOf(await post(gateway, ME, { host, token: memberToken }))).toBe('UNAUTHENTICATED');
    }

    // Suspended: every request of the tenant is FORBIDDEN on both replicas — signed in, anonymous, signing in.
    const suspended = await asPlatform(SET_STATUS, { id, status: 'SUSPENDED' });
    expect(suspended.body.data!.setTenantStatus).toMatchObject({ id, status: 'SUSPENDED' });
    for (const gateway of bothGateways()) {
      await eventually(async () => expect(codeOf(await post(gateway, ME, { host: newHost, token: memberToken }))).toBe('FORBIDDEN'));
      const refused = await post(gateway, LOGIN, { host: newHost, variables: { input: { login: email, password: STRONG_PASSWORD } } });
      expect({ status: refused.status, code: codeOf(refused) }).toEqual({ status: 403, code: 'FORBIDDEN' });
      expect(codeOf(await post(gateway, '{ chatModels { id } }', { host: newHost }))).toBe('FORBIDDEN');
    }
    // Other tenants are untouched.
    expect((await asPlatform(ME)).body.data!.me).toEqual({ id: platformAdmin.user.id });

    // Reactivated: let in again on both replicas, with the same token.
    expect((await asPlatform(SET_STATUS, { id, status: 'ACTIVE' })).body.data!.setTenantStatus.status).toBe('ACTIVE');
    for (const gateway of bothGateways()) {
      await eventually(async () => expect((await post(gateway, ME, { host: newHost, token: memberToken })).body.data?.me).toEqual({ id: member.user.id }));
    }

    // Every action is in the platform tenant's audit log, with the admin as actor and what changed.
    const audit = await asPlatform(AUDIT);
    const events = (audit.body.data!.auditEvents.edges as Array<{ node: { action: string; targetId: string; targetType: string; details: any; actor: { id: string } } }>)
      .map((edge) => edge.node)
      .filter((event) => event.targetId === id)
      .reverse();
    expect(events.map((event) => event.action)).toEqual(['createTenant', 'setTenantHosts', 'setTenantStatus', 'setTenantStatus']);
    for (const event of events) expect(event).toMatchObject({ targetType: 'Tenant', actor: { id: platformAdmin.user.id } });
    expect(events[1]!.details).toEqual({ before: { hosts: [host] }, after: { hosts: [newHost] } });
    expect(events[2]!.details).toEqual({ before: { status: 'ACTIVE' }, after: { status: 'SUSPENDED' } });
    console.info(`tenants e2e: new host mapped on both replicas ${mappedWithinMs} ms after createTenant answered`);
  }, 120_000);

  it('refuses bad input naming the field, a host of another tenant, and suspending the platform tenant', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const host = `${id}.tenants.example.com`;
    expect((await asPlatform(CREATE, { input: { id, name: 'First', hosts: [host] } })).body.errors).toBeUndefined();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ id: 'Not Valid!', name: 'x' }, 'id'],
      [{ id: `t-${randomUUID().slice(0, 8)}`, name: '  ' }, 'name'],
      [{ id: `t-${randomUUID().slice(0, 8)}`, name: 'x', hosts: ['https://example.com/path'] }, 'hosts'],
    ];
    for (const [input, field] of cases) {
      const answer = await asPlatform(CREATE, { input });
      expect({ field, extensions: answer.body.errors?.[0]?.extensions }).toMatchObject({ field, extensions: { code: 'BAD_USER_INPUT', field } });
    }
    expect(codeOf(await asPlatform(CREATE, { input: { id, name: 'Again' } }))).toBe('CONFLICT');
    const other = `t-${randomUUID().slice(0, 8)}`;
    const clash = await asPlatform(CREATE, { input: { id: other, name: 'Clash', hosts: [host] } });
    expect(clash.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'hosts' });
    expect(await sg.db.tenant.findUnique({ where: { id: other } })).toBeNull();
    expect(codeOf(await asPlatform(SET_HOSTS, { id: 'no-such-tenant', hosts: [] }))).toBe('NOT_FOUND');
    expect((await asPlatform(SET_STATUS, { id: 'default', status: 'SUSPENDED' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('refuses every tenant operation to non-admins, to admins of other tenants and to anonymous callers', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    expect((await asPlatform(CREATE, { input: { id, name: 'Victim' } })).body.errors).toBeUndefined();
    await untilTenantServed([sg.gatewayUrl], id);
    const plain = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const plainToken = await sg.tokenFor(plain.user);
    const foreignAdmin = await seedUserWithHistory(sg.db, { tenantId: id, conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: foreignAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
    const foreignToken = await sg.tokenFor({ ...foreignAdmin.user, roles: ['USER', 'ADMIN'] });
    const operations: Array<[string, Record<string, unknown>]> = [
      [TENANTS, {}],
      [CREATE, { input: { id: `t-${randomUUID().slice(0, 8)}`, name: 'Mine' } }],
      [SET_HOSTS, { id, hosts: ['stolen.example.com'] }],
      [SET_STATUS, { id: 'default', status: 'SUSPENDED' }],
      [SET_STATUS, { id, status: 'SUSPENDED' }],
    ];
    for (const [query, variables] of operations) {
      expect(codeOf(await sg.request(query, { token: plainToken, variables }))).toBe('FORBIDDEN');
      expect(codeOf(await sg.request(query, { token: foreignToken, variables, headers: { 'x-tenant-id': id } }))).toBe('FORBIDDEN');
      expect(codeOf(await sg.request(query, { variables }))).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
    }
    expect(await sg.db.tenant.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'ACTIVE' });
    expect(await sg.db.tenantHost.count({ where: { tenantId: id } })).toBe(0);
  });
});

describe('tenants the platform does not know', () => {
  /** POSTs naming the tenant in the header, from a client IP of its own. */
  async function inTenant(gatewayUrl: string, tenantId: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenantId, 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
  }
  const refusal = (answer: GraphQLResponse) => ({ status: answer.status, data: answer.body.data ?? null, extensions: answer.body.errors?.[0]?.extensions });

  it('are refused on both replicas; one made with createTenant is served on both once Redis holds it; a suspended one is FORBIDDEN', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const signUp = { input: { email: uniqueEmail('unknown'), password: STRONG_PASSWORD, displayName: 'Early' } };
    for (const gateway of bothGateways()) {
      // Refused before anything runs — anonymous reads and sign-up alike — with a reason that says why.
      for (const [query, variables] of [['{ chatModels { id } }', undefined], [REGISTER, signUp]] as const) {
        expect(refusal(await inTenant(gateway, id, query, variables))).toEqual({ status: 400, data: null, extensions: { code: 'BAD_USER_INPUT', reason: 'tenant_unknown' } });
      }
      // The platform tenant always passes.
      expect((await inTenant(gateway, 'default', '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
    }

    expect((await asPlatform(CREATE, { input: { id, name: 'Newcomer' } })).body.errors).toBeUndefined();
    const answeredAt = Date.now();
    // What the 2-second rule rests on: when createTenant answers, Redis already holds a copy naming the tenant, so each
    // replica serves it at the announcement (milliseconds) or at its next check (PLATFORM_STATE_RECHECK_MS, 1 s).
    const copy = JSON.parse((await sg.redis.get('platform-state:tenants')) ?? '{}') as { tenants?: Array<{ id: string }> };
    expect(copy.tenants?.map((tenant) => tenant.id)).toContain(id);
    for (const gateway of bothGateways()) {
      await eventually(async () => expect((await inTenant(gateway, id, '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } }));
    }
    const servedWithinMs = Date.now() - answeredAt;
    const registered = await inTenant(replicaUrl, id, REGISTER, signUp);
    expect(registered.body.errors).toBeUndefined();
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: registered.body.data!.register.user.id as string } })).tenantId).toBe(id);

    // Suspended, it is refused as suspended (known, but closed), on both replicas.
    expect((await asPlatform(SET_STATUS, { id, status: 'SUSPENDED' })).body.errors).toBeUndefined();
    for (const gateway of bothGateways()) {
      await eventually(async () => expect(refusal(await inTenant(gateway, id, '{ __typename }'))).toEqual({ status: 403, data: null, extensions: { code: 'FORBIDDEN', reason: 'tenant_suspended' } }));
    }
    console.info(`tenants e2e: new tenant served on both replicas ${servedWithinMs} ms after createTenant answered`);
  }, 120_000);
});
