import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema, Kind, parse, getNamedType, isNonNullType, getNullableType, type FieldDefinitionNode } from 'graphql';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { createCredentialSigner, generateSigningKey } from '@firefly/auth';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { clientOf, codeOf, expectOk, jwtPayload, LOGIN, ME, registerWithEmail, startIdentitySupergraph, type IdentitySupergraph } from '../../src/identity-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

let sg: IdentitySupergraph;
let user: { accessToken: string; userId: string; sessionId: string; email: string };
let adminToken: string;
let mallory: SeededUser;

beforeAll(async () => {
  sg = await startIdentitySupergraph();
  const client = clientOf(sg);
  const account = await registerWithEmail(client);
  user = { accessToken: account.accessToken, userId: account.user.id, sessionId: jwtPayload(account.accessToken).sid as string, email: account.email };
  const adminAccount = await registerWithEmail(client);
  await sg.db.user.update({ where: { id: adminAccount.user.id }, data: { roles: 'USER,ADMIN' } });
  adminToken = expectOk(await client.call(LOGIN, { input: { login: adminAccount.email, password: adminAccount.password } })).login.accessToken;
  await ensureTenant(sg, 'tenant-b', { name: 'Tenant B' });
  mallory = await seedUserWithHistory(sg.db, { tenantId: 'tenant-b', conversations: 1, imageJobs: 1, credits: 5 });
});
afterAll(async () => {
  await sg?.stop();
});

/** Signs claims with the run's real key unless told otherwise; by default a copy of `user`'s valid token. */
async function craft(options: { claims?: JWTPayload; header?: Record<string, unknown>; key?: Parameters<SignJWT['sign']>[0]; alg?: string } = {}): Promise<string> {
  const key = options.key ?? (await importJWK(sg.signingKey.privateJwk, 'EdDSA'));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: 'default', sid: user.sessionId, roles: ['USER'], sub: user.userId, iss: 'firefly', aud: 'firefly-api', iat: now, exp: now + 600, ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'EdDSA', kid: sg.signingKey.kid, typ: 'at+jwt', ...options.header } as never)
    .sign(key);
}

describe('access tokens at the gateway', () => {
  it('serves the public keys as JWKS, without the private part', async () => {
    const response = await fetch(new URL('/.well-known/jwks.json', sg.gatewayUrl));
    const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: sg.signingKey.kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('accepts a correctly crafted token for a live session (the control for the refusals below)', async () => {
    expect(expectOk(await clientOf(sg).call(ME, {}, await craft())).me.id).toBe(user.userId);
  });

  it('refuses expired, tampered, alg:none, wrong-kid, wrong-key, other-tenant, wrong-audience and wrong-issuer tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await craft();
    const [h, p, s] = valid.split('.') as [string, string, string];
    const tamperedPayload = Buffer.from(JSON.stringify({ ...jwtPayload(valid), roles: ['USER', 'ADMIN'] })).toString('base64url');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: sg.signingKey.kid })).toString('base64url');
    const otherKey = await generateSigningKey(sg.signingKey.kid);
    const unknownKid = await generateSigningKey('not-our-kid');
    // HMAC "signed" with the public key as secret: the classic algorithm-confusion attack.
    const publicX = Buffer.from(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: sg.signingKey.privateJwk.x }));
    const cases: Record<string, string> = {
      expired: await craft({ claims: { iat: now - 3600, exp: now - 60 } }),
      'tampered payload': `${h}.${tamperedPayload}.${s}`,
      'tampered signature': `${h}.${p}.${s.slice(0, -4)}AAAA`,
      'alg none': `${noneHeader}.${p}.`,
      'alg HS256 with the public key': await craft({ alg: 'HS256', key: new Uint8Array(publicX) }),
      'unknown kid': await craft({ header: { kid: 'not-our-kid' }, key: await importJWK(unknownKid.privateJwk, 'EdDSA') }),
      'our kid, another key': await craft({ key: await importJWK(otherKey.privateJwk, 'EdDSA') }),
      'other tenant': await craft({ claims: { tid: 'tenant-b' } }),
      'wrong audience': await craft({ claims: { aud: 'someone-else' } }),
      'wrong issuer': await craft({ claims: { iss: 'evil' } }),
      'not an access token (typ)': await craft({ header: { typ: 'JWT' } }),
      'dead session': await craft({ claims: { sid: randomUUID() } }),
      'session of another user': await craft({ claims: { sub: randomUUID() } }),
      'garbage': 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const response = await clientOf(sg).call(ME, {}, token);
      expect({ name, code: codeOf(response), data: response.body.data ?? null }).toEqual({ name, code: 'UNAUTHENTICATED', data: null });
    }
    // The other-tenant token is refused even when presented under that tenant: its session lives in `default`.
    expect(codeOf(await clientOf(sg, { tenant: 'tenant-b' }).call(ME, {}, cases['other tenant']))).toBe('UNAUTHENTICATED');
    // And a non-Bearer Authorization header is not anonymous either.
    expect(codeOf(await clientOf(sg).call(ME, {}, undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toBe('UNAUTHENTICATED');
  });

  it('a role claim forged into a token does not grant the role: roles come from the live session', async () => {
    const withAdmin = await craft({ claims: { roles: ['USER', 'ADMIN'] } });
    expect(codeOf(await clientOf(sg).call(`{ users { edges { node { id } } } }`, {}, withAdmin))).toBe('FORBIDDEN');
  });
});

describe('subgraphs refuse forged gateway credentials', () => {
  const probe = JSON.stringify({ query: '{ me { id } }' });
  it('every subgraph refuses no credential, a wrong secret, an expired one and alg:none', async () => {
    const identity = { kind: 'user' as const, tenantId: 'default', requestId: randomUUID(), userId: user.userId, roles: ['ADMIN' as const], sessionId: user.sessionId };
    const wrongSecret = await createCredentialSigner({ secret: 'y'.repeat(64), issuer: 'gateway' })(identity);
    const expired = await createCredentialSigner({ secret: sg.internalTokenSecret, issuer: 'gateway', ttlSeconds: -10 })(identity);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${wrongSecret.split('.')[1]}.`;
    for (const url of Object.values(sg.subgraphUrls)) {
      for (const credential of [undefined, wrongSecret, expired, none]) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': user.userId, 'x-roles': 'ADMIN', ...(credential ? { 'x-firefly-credential': credential } : {}) },
          body: probe,
        });
        expect(response.status).toBe(401);
      }
    }
  });
});

/** Every root field the SDLs reserve for admins, with a document that calls it. */
const ADMIN_OPERATIONS: Record<string, string> = {
  'Query.user': `{ user(id: "x") { id } }`,
  'Query.users': `{ users { edges { node { id } } } }`,
  'Query.auditEvents': `{ auditEvents { edges { node { id action } } } }`,
  'Mutation.setUserRoles': `mutation { setUserRoles(userId: "x", roles: [ADMIN]) { id } }`,
  'Mutation.setUserStatus': `mutation { setUserStatus(userId: "x", status: SUSPENDED) { id } }`,
  'Mutation.refundOrder': `mutation { refundOrder(id: "x", reason: "r") { id } }`,
  'Query.adminOrders': `{ adminOrders { edges { node { id payments { id } } } } }`,
  'Mutation.adjustCredits': `mutation { adjustCredits(userId: "x", delta: 1000, note: "n") { available } }`,
  'Mutation.upsertChatModel': `mutation { upsertChatModel(input: { id: "x", name: "n", maxInputTokens: 1, maxOutputTokens: 1, inputPricePer1k: 1, outputPricePer1k: 1 }) { id } }`,
  'Mutation.upsertImageModel': `mutation { upsertImageModel(input: { id: "x", name: "n", sizes: ["1024*1024"], maxCount: 1, pricePerImage: 1 }) { id } }`,
  'Mutation.setTenantChatModel': `mutation { setTenantChatModel(input: { tenantId: "x", modelId: "y", hidden: true }) { hidden } }`,
  'Mutation.setTenantImageModel': `mutation { setTenantImageModel(input: { tenantId: "x", modelId: "y", hidden: true }) { hidden } }`,
  'Mutation.setTenantChatPrice': `mutation { setTenantChatPrice(input: { tenantId: "x", modelId: "y", inputPricePer1k: 1, outputPricePer1k: 1 }) { validFrom } }`,
  'Mutation.setTenantImagePrice': `mutation { setTenantImagePrice(input: { tenantId: "x", modelId: "y", pricePerImage: 1 }) { validFrom } }`,
  'Query.tenantOverrides': `{ tenantOverrides(tenantId: "x") { tenantId chatPrices { modelId } } }`,
  'Mutation.upsertProduct': `mutation { upsertProduct(input: { id: "x", name: "n", credits: 1, priceFen: 1 }) { id } }`,
  'Query.partners': `{ partners { edges { node { id } } } }`,
  'Query.partner': `{ partner(id: "x") { id } }`,
  'Mutation.createPartner': `mutation { createPartner(input: { name: "n" }) { id } }`,
  'Mutation.createPartnerApiKey': `mutation { createPartnerApiKey(partnerId: "x") { key } }`,
  'Mutation.revokePartnerApiKey': `mutation { revokePartnerApiKey(id: "x") { id } }`,
  'Mutation.setPartnerStatus': `mutation { setPartnerStatus(partnerId: "x", status: SUSPENDED) { id } }`,
  'Query.tenants': `{ tenants { id } }`,
  'Query.settings': `{ settings { key } }`,
  'Mutation.setSetting': `mutation { setSetting(key: "orderTtlSeconds", value: 600) { key } }`,
  'Mutation.createTenant': `mutation { createTenant(input: { id: "x", name: "n" }) { id } }`,
  'Mutation.setTenantHosts': `mutation { setTenantHosts(id: "x", hosts: []) { id } }`,
  'Mutation.setTenantStatus': `mutation { setTenantStatus(id: "x", status: SUSPENDED) { id } }`,
  'Mutation.publishPersistedQueries': `mutation { publishPersistedQueries(partnerId: "x", manifest: { format: "apollo-persisted-query-manifest", version: 1, operations: [] }) { version } }`,
};

function rootFieldsOfSubgraphs(): Array<{ coordinate: string; field: FieldDefinitionNode }> {
  const out: Array<{ coordinate: string; field: FieldDefinitionNode }> = [];
  for (const name of ['user', 'conversation', 'image', 'billing']) {
    const document = parse(readFileSync(new URL(`../../../subgraphs/${name}/schema.graphql`, import.meta.url), 'utf8'));
    for (const def of document.definitions) {
      if ((def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) && ['Query', 'Mutation'].includes(def.name.value)) {
        for (const field of def.fields ?? []) out.push({ coordinate: `${def.name.value}.${field.name.value}`, field });
      }
    }
  }
  return out;
}

describe('admin operations', () => {
  it('the list above covers every admin-only root field of every subgraph', () => {
    const adminOnly = rootFieldsOfSubgraphs()
      .filter(({ field }) => (field.directives ?? []).some((d) => d.name.value === 'requiresScopes' && JSON.stringify(d.arguments).includes('"admin"')))
      .map(({ coordinate }) => coordinate)
      .sort();
    expect(adminOnly).toEqual(Object.keys(ADMIN_OPERATIONS).sort());
  });

  it('are refused to a USER with FORBIDDEN and to anonymous callers with UNAUTHENTICATED', async () => {
    for (const [coordinate, document] of Object.entries(ADMIN_OPERATIONS)) {
      const asUser = await clientOf(sg).call(document, {}, user.accessToken);
      expect({ coordinate, code: codeOf(asUser) }).toEqual({ coordinate, code: 'FORBIDDEN' });
      const anonymous = await clientOf(sg).call(document);
      expect({ coordinate, code: codeOf(anonymous) }).toEqual({ coordinate, code: 'UNAUTHENTICATED' });
    }
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: user.userId } })).roles).toBe('USER');
  });

  it('an ADMIN searches and pages users of their own tenant only', async () => {
    // Emails are sealed at rest: a whole address (any case) finds its account through the blind index.
    const search = async (q: string) =>
      expectOk(await clientOf(sg).call(`query($q: String) { users(first: 100, query: $q) { edges { node { id email phone } } } }`, { q }, adminToken)).users.edges.map(
        (e: { node: { id: string; email: string | null } }) => e.node,
      );
    expect(await search(user.email.toUpperCase())).toEqual([{ id: user.userId, email: user.email, phone: null }]);
    // Another tenant's user is found neither by its email nor by its display name.
    expect(await search(mallory.user.email)).toEqual([]);
    expect(await search(mallory.user.displayName)).toEqual([]);
    const one = expectOk(await clientOf(sg).call(`query($id: ID!) { user(id: $id) { id email } }`, { id: user.userId }, adminToken));
    expect(one.user.id).toBe(user.userId);
  });
});

describe('tenant isolation by id', () => {
  it('every query that takes an ID answers null for a row of another tenant, even to an admin', async () => {
    const order = await sg.db.order.create({
      data: {
        id: randomUUID(),
        tenantId: 'tenant-b',
        userId: mallory.user.id,
        productId: 'prod_credits_100',
        amountFen: 600,
        credits: 100,
        channel: 'ALIPAY',
        outTradeNo: `T${randomUUID().replace(/-/g, '').slice(0, 20)}`,
        expiresAt: new Date(Date.now() + 900_000),
      },
    });
    const partnerAccount = await seedUserWithHistory(sg.db, { tenantId: 'tenant-b', conversations: 0, imageJobs: 0, credits: 0 });
    const partner = await sg.db.partner.create({ data: { id: randomUUID(), tenantId: 'tenant-b', name: 'Partner B', accountUserId: partnerAccount.user.id } });
    const foreignIdOf: Record<string, string> = {
      Partner: partner.id,
      User: mallory.user.id,
      Conversation: mallory.conversationIds[0]!,
      ImageJob: mallory.imageJobIds[0]!,
      Order: order.id,
    };
    // Walk the composed supergraph: a new client-visible query taking an ID fails here until it is covered.
    const supergraph = buildSchema(readFileSync(new URL('../../../schema/supergraph.graphql', import.meta.url), 'utf8'), { assumeValidSDL: true });
    const queryFields = Object.values(supergraph.getQueryType()!.getFields()).filter(
      (f) => f.args.some((a) => isNonNullType(a.type) && getNullableType(a.type).toString() === 'ID') && !f.astNode?.directives?.some((d) => d.name.value === 'inaccessible'),
    );
    expect(queryFields.map((f) => f.name).sort()).toEqual(expect.arrayContaining(['conversation', 'imageJob', 'order', 'user']));
    // Platform-level reads that name another tenant on purpose, for ADMINs of the platform tenant only (their
    // refusal to other tenants' admins is tested with them: operators/catalog.e2e.ts). Here: a USER is refused.
    const platformFields = new Set(['tenantOverrides']);
    for (const field of queryFields.filter((f) => platformFields.has(f.name))) {
      const idArg = field.args.find((a) => getNullableType(a.type).toString() === 'ID')!;
      const response = await clientOf(sg).call(`query($id: ID!) { ${field.name}(${idArg.name}: $id) { __typename } }`, { id: 'tenant-b' }, user.accessToken);
      expect({ field: field.name, code: codeOf(response), data: response.body.data?.[field.name] ?? null }).toEqual({ field: field.name, code: 'FORBIDDEN', data: null });
    }
    for (const field of queryFields.filter((f) => !platformFields.has(f.name))) {
      const typeName = getNamedType(field.type).name;
      const id = foreignIdOf[typeName];
      expect({ field: field.name, covered: id !== undefined }).toEqual({ field: field.name, covered: true });
      const idArg = field.args.find((a) => getNullableType(a.type).toString() === 'ID')!;
      for (const token of [user.accessToken, adminToken]) {
        const response = await clientOf(sg).call(`query($id: ID!) { ${field.name}(${idArg.name}: $id) { __typename } }`, { id }, token);
        const refused = response.body.errors?.[0]?.extensions?.code;
        // USER callers may be refused outright (admin-only fields); nobody ever gets the row.
        expect({ field: field.name, data: response.body.data?.[field.name] ?? null, refused: refused === undefined || ['FORBIDDEN', 'NOT_FOUND'].includes(refused as string) }).toEqual({
          field: field.name,
          data: null,
          refused: true,
        });
      }
    }
  });

  it('admin mutations and revokeSession cannot reach another tenant either', async () => {
    const roles = await clientOf(sg).call(`mutation($id: ID!) { setUserRoles(userId: $id, roles: [ADMIN]) { id } }`, { id: mallory.user.id }, adminToken);
    expect(codeOf(roles)).toBe('NOT_FOUND');
    const status = await clientOf(sg).call(`mutation($id: ID!) { setUserStatus(userId: $id, status: SUSPENDED) { id } }`, { id: mallory.user.id }, adminToken);
    expect(codeOf(status)).toBe('NOT_FOUND');
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: mallory.user.id } })).status).toBe('ACTIVE');
  });
});
