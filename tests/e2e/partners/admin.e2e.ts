// Partner administration through the gateway: partners with their own account, API keys shown once and stored as
// a prefix and a hash (the signing secret sealed), revocation and suspension, tenant isolation, and the internal
// key lookup kept out of the public schema.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { createAdmin, createKey, createPartner, CREATE_KEY, CREATE_PARTNER, ok, REVOKE_KEY, SET_PARTNER_STATUS, type Admin } from '../../src/partner-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

let sg: Supergraph;
let admin: Admin;

beforeAll(async () => {
  sg = await startSupergraph();
  admin = await createAdmin(sg);
});
afterAll(async () => {
  await sg?.stop();
});

const codeOf = (response: { body: { errors?: Array<{ extensions?: Record<string, unknown> }> } }) => response.body.errors?.[0]?.extensions?.code;

describe('partners', () => {
  it('createPartner makes an ACTIVE partner with an account of its own that cannot sign in', async () => {
    const created = ok(await admin.call(CREATE_PARTNER, { name: '  Acme Travel  ' })).createPartner;
    expect(created).toMatchObject({ name: 'Acme Travel', status: 'ACTIVE', apiKeys: [], persistedQueryList: null });
    expect(created.account.displayName).toBe('Acme Travel');
    const account = await sg.db.user.findUniqueOrThrow({ where: { id: created.account.id }, include: { credentials: true } });
    expect(account).toMatchObject({ tenantId: 'default', roles: 'USER', status: 'ACTIVE', email: null, phone: null, credentials: [] });
    const read = ok(await admin.call(`query($id: ID!) { partner(id: $id) { id name account { id } } }`, { id: created.id })).partner;
    expect(read).toEqual({ id: created.id, name: 'Acme Travel', account: { id: created.account.id } });
  });

  it('refuses an empty or overlong name with BAD_USER_INPUT', async () => {
    for (const name of ['   ', 'x'.repeat(101)]) {
      const response = await admin.call(CREATE_PARTNER, { name });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions?.field).toBe('name');
    }
  });

  it('lists partners newest first, page by page', async () => {
    // A tenant of its own, so partners other files create in parallel do not land in the pages.
    const tenantId = `partners-list-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const lister = await createAdmin(sg, tenantId);
    const made = [await createPartner(lister, 'Page A'), await createPartner(lister, 'Page B'), await createPartner(lister, 'Page C')];
    const first = ok(await lister.call(`{ partners(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`)).partners;
    expect(first.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = ok(await lister.call(`query($after: String) { partners(first: 1, after: $after) { edges { node { id } } } }`, { after: first.pageInfo.endCursor })).partners;
    expect(next.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([made[0]!.id]);
  });

  it("another tenant's admin neither sees nor manages the partner", async () => {
    await ensureTenant(sg, 'partners-b', { name: 'Partners B' });
    const other = await createAdmin(sg, 'partners-b');
    const partner = await createPartner(admin);
    const key = await createKey(admin, partner.id);
    expect(ok(await other.call(`query($id: ID!) { partner(id: $id) { id } }`, { id: partner.id })).partner).toBeNull();
    expect(ok(await other.call(`{ partners(first: 100) { edges { node { id } } } }`)).partners.edges).toEqual([]);
    expect(codeOf(await other.call(CREATE_KEY, { partnerId: partner.id }))).toBe('NOT_FOUND');
    expect(codeOf(await other.call(REVOKE_KEY, { id: key.id }))).toBe('NOT_FOUND');
    expect(codeOf(await other.call(SET_PARTNER_STATUS, { id: partner.id, status: 'SUSPENDED' }))).toBe('NOT_FOUND');
    expect((await sg.db.partnerApiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
  });
});

describe('API keys', () => {
  it('are random, shown once, and stored only as their prefix and sha256', async () => {
    const partner = await createPartner(admin);
    const created = ok(await admin.call(CREATE_KEY, { partnerId: partner.id })).createPartnerApiKey;
    expect(created.key).toMatch(/^ffk_[A-Za-z0-9_-]{48}$/);
    expect(created.secret).toBeNull();
    expect(created.apiKey).toMatchObject({ prefix: created.key.slice(0, 16), requireSignature: false, rateLimitPerMinute: null, lastUsedAt: null, revokedAt: null });
    const row = await sg.db.partnerApiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
    expect(JSON.stringify(row)).not.toContain(created.key);
    const { createHash } = await import('node:crypto');
    expect(row.keyHash).toBe(createHash('sha256').update(created.key).digest('hex'));
    // Reading the partner later shows the prefix, never the key.
    const keys = ok(await admin.call(`query($id: ID!) { partner(id: $id) { apiKeys { id prefix } } }`, { id: partner.id })).partner.apiKeys;
    expect(keys).toEqual([{ id: created.apiKey.id, prefix: created.apiKey.prefix }]);
    const again = ok(await admin.call(CREATE_KEY, { partnerId: partner.id })).createPartnerApiKey;
    expect(again.key).not.toBe(created.key);
  });

  it('with requireSignature carry a signing secret, sealed at rest', async () => {
    const partner = await createPartner(admin);
    const created = ok(await admin.call(CREATE_KEY, { partnerId: partner.id, requireSignature: true, rate: 30 })).createPartnerApiKey;
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({ requireSignature: true, rateLimitPerMinute: 30 });
    const row = await sg.db.partnerApiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
    expect(row.secretCiphertext).toMatch(/^v1\./);
    expect(row.secretCiphertext).not.toContain(created.secret);
  });

  it('refuses a rate limit out of range and an unknown partner', async () => {
    const partner = await createPartner(admin);
    for (const rate of [0, -5, 100_001]) expect(codeOf(await admin.call(CREATE_KEY, { partnerId: partner.id, rate }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await admin.call(CREATE_KEY, { partnerId: 'no-such-partner' }))).toBe('NOT_FOUND');
    expect(await sg.db.partnerApiKey.count({ where: { partnerId: partner.id } })).toBe(0);
  });

  it('revoking sets revokedAt once and writes the marker every gateway checks', async () => {
    const partner = await createPartner(admin);
    const key = await createKey(admin, partner.id);
    const first = ok(await admin.call(REVOKE_KEY, { id: key.id })).revokePartnerApiKey;
    expect(first.revokedAt).toEqual(expect.any(String));
    const second = ok(await admin.call(REVOKE_KEY, { id: key.id })).revokePartnerApiKey;
    expect(second.revokedAt).toBe(first.revokedAt);
    expect(await sg.redis.get(`partner-key-revoked:${key.id}`)).toBe('1');
    expect(codeOf(await admin.call(REVOKE_KEY, { id: 'no-such-key' }))).toBe('NOT_FOUND');
  });

  it('suspending a partner writes its marker; reactivating removes it', async () => {
    const partner = await createPartner(admin);
    const before = Date.now();
    expect(ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'SUSPENDED' })).setPartnerStatus.status).toBe('SUSPENDED');
    // The marker holds when it was written (the marker sync compares it with the partner row).
    const written = Number(await sg.redis.get(`partner-suspended:${partner.id}`));
    expect(written).toBeGreaterThanOrEqual(before);
    expect(written).toBeLessThanOrEqual(Date.now());
    expect(ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'ACTIVE' })).setPartnerStatus.status).toBe('ACTIVE');
    expect(await sg.redis.get(`partner-suspended:${partner.id}`)).toBeNull();
  });
});

describe('the internal key lookup', () => {
  it('is not part of the public schema', async () => {
    const response = await admin.call(`{ partnerKeyForGateway(prefix: "ffk_aaaaaaaaaaaa") { id keyHash secret } }`);
    expect(codeOf(response)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('on the subgraph itself answers our services only, never an admin', async () => {
    const { createCredentialSigner } = await import('@firefly/auth');
    const query = JSON.stringify({ query: `{ partnerKeyForGateway(prefix: "ffk_aaaaaaaaaaaa") { id } }` });
    const call = async (credential: string) =>
      (await fetch(sg.subgraphUrls.user, { method: 'POST', headers: { 'content-type': 'application/json', 'x-firefly-credential': credential }, body: query })).json() as Promise<{
        data?: unknown;
        errors?: Array<{ extensions?: Record<string, unknown> }>;
      }>;
    const asGateway = createCredentialSigner({ secret: sg.internalTokenSecret, issuer: 'gateway' });
    const adminCredential = await asGateway({ kind: 'user', tenantId: 'default', requestId: 'r', userId: admin.id, roles: ['USER', 'ADMIN'], sessionId: 's' });
    expect((await call(adminCredential)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const serviceCredential = await asGateway({ kind: 'service', tenantId: 'default', requestId: 'r', service: 'gateway' });
    expect(await call(serviceCredential)).toEqual({ data: { partnerKeyForGateway: null } });
  });
});

describe('audit', () => {
  it('every partner change is an audit event naming its mutation, with no key, hash or secret in it', async () => {
    const partner = await createPartner(admin, 'Audited Partner');
    const created = ok(await admin.call(CREATE_KEY, { partnerId: partner.id, requireSignature: true })).createPartnerApiKey;
    ok(await admin.call(REVOKE_KEY, { id: created.apiKey.id }));
    ok(await admin.call(REVOKE_KEY, { id: created.apiKey.id }));
    ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'SUSPENDED' }));
    const events = await sg.db.auditEvent.findMany({ where: { targetId: { in: [partner.id, created.apiKey.id] } }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => [e.action, e.targetType, e.actor])).toEqual([
      ['createPartner', 'Partner', admin.id],
      ['createPartnerApiKey', 'PartnerApiKey', admin.id],
      ['revokePartnerApiKey', 'PartnerApiKey', admin.id],
      ['setPartnerStatus', 'Partner', admin.id],
    ]);
    const row = await sg.db.partnerApiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
    for (const event of events) {
      for (const secret of [created.key, created.secret, row.keyHash, row.secretCiphertext]) expect(event.details ?? '').not.toContain(secret);
    }
  });
});
