// publishPersistedQueries with two gateway replicas and the subgraphs in their own processes: an ADMIN publishes
// Apollo's manifest (version + 1, Partner.persistedQueryList), the other replica holds the new list within a second
// (Redis pub/sub), bad manifests are refused with BAD_USER_INPUT and the old list stays, users are refused, and
// `npm run pq:publish` publishes a file through the gateway.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationId } from '@firefly/persisted-queries';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { readMetric } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

const A = 0;
const B = 1;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = JSON.parse(readFileSync(`${root}schema/operations/partner-example.manifest.json`, 'utf8')) as Manifest;
const PUBLISH = `mutation Publish($partnerId: ID!, $manifest: JSON!) { publishPersistedQueries(partnerId: $partnerId, manifest: $manifest) { version operationCount publishedAt } }`;
const LIST_OF = `query ListOf($id: ID!) { partner(id: $id) { persistedQueryList { version operationCount publishedAt } } }`;

interface Manifest {
  format: string;
  version: number;
  operations: Array<{ id: string; name: string; type: string; body: string }>;
}

let stack: Stack;
let adminToken: string;
let userToken: string;
let partnerId: string;

beforeAll(async () => {
  stack = await startStack({ services: ['billing', 'user', 'conversation'], gateways: 2, serviceEnv: { user: { PERSISTED_QUERY_LIST_SYNC_SECONDS: '1' } } });
  const admin = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await stack.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
  adminToken = (await stack.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] })).token;
  const user = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  userToken = (await stack.tokenFor(user.user)).token;
  const created = await stack.request(`mutation { createPartner(input: { name: "PQ publisher" }) { id persistedQueryList { version } } }`, { token: adminToken });
  expect(created.body.errors).toBeUndefined();
  expect(created.body.data.createPartner.persistedQueryList).toBeNull();
  partnerId = created.body.data.createPartner.id;
}, 120_000);
afterAll(() => stack?.stop());

const publish = (manifest: unknown, options: { gateway?: number; token?: string } = {}) =>
  stack.request(PUBLISH, { variables: { partnerId, manifest }, token: options.token ?? adminToken, gateway: options.gateway ?? A });
const publishEvents = async () =>
  (
    await stack.request(`{ auditEvents(first: 100, action: "publishPersistedQueries") { edges { node { targetType targetId details actor { id } } } } }`, { token: adminToken })
  ).body.data.auditEvents.edges
    .map((edge: { node: { targetId: string } }) => edge.node)
    // Other files share the run's database: this partner's events only.
    .filter((event: { targetId: string }) => event.targetId === partnerId) as Array<{ targetType: string; targetId: string; details: { version: number; operationCount: number }; actor: { id: string } }>;
/** gateway_persisted_query_list_version of a partner on one replica (undefined: that replica holds no list of it). */
const heldVersion = (gateway: number, partner = partnerId) =>
  readMetric(stack.gateways[gateway]!.origin, 'gateway_persisted_query_list_version', { partner });
const listNow = async () => (await stack.request(LIST_OF, { variables: { id: partnerId }, token: adminToken })).body.data.partner.persistedQueryList;

/** A manifest operation whose id is right for its body. */
const operation = (name: string, body: string, type = 'query') => ({ id: operationId(body), name, type, body });
const manifestOf = (...operations: Manifest['operations']) => ({ format: 'apollo-persisted-query-manifest', version: 1, operations });

describe('publishPersistedQueries', () => {
  it('stores the list (version 1), and the other replica holds it within a second', async () => {
    const answer = await publish(EXAMPLE);
    const answeredAt = Date.now();
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.publishPersistedQueries).toMatchObject({ version: 1, operationCount: EXAMPLE.operations.length });
    expect(await listNow()).toEqual(answer.body.data.publishPersistedQueries);
    // Audited like every admin action, in the same transaction.
    expect(await publishEvents()).toEqual([
      expect.objectContaining({ targetType: 'Partner', targetId: partnerId, details: expect.objectContaining({ version: 1, operationCount: EXAMPLE.operations.length }) }),
    ]);

    const loaded = (gateway: number) =>
      stack.gateways[gateway]!.waitForLog((line) => line.msg === 'persisted query list loaded' && line.partnerId === partnerId && line.version === 1, 15_000);
    await Promise.all([loaded(A), loaded(B)]);
    // Generous bound (a loaded 2-core machine runs several suites): pub/sub, not the periodic sync, brought it.
    expect(Date.now() - answeredAt).toBeLessThan(15_000);
    // Operators see the spread on /metrics: every replica reports the version it holds.
    for (const gateway of [A, B]) expect(await heldVersion(gateway)).toBe(1);
  });

  it('each replica reports the version it holds on /metrics, and a new publish moves them all', async () => {
    const { version } = await listNow();
    for (const gateway of [A, B]) expect(await heldVersion(gateway)).toBe(version);
    // Another partner's list is a series of its own.
    const other = (await stack.request(`mutation { createPartner(input: { name: "PQ other" }) { id } }`, { token: adminToken })).body.data.createPartner.id as string;
    expect(await heldVersion(A, other)).toBeUndefined();
    const next = (await publish(manifestOf(EXAMPLE.operations[0]!), { gateway: B })).body.data.publishPersistedQueries.version as number;
    expect(next).toBe(version + 1);
    for (const gateway of [A, B]) {
      await stack.gateways[gateway]!.waitForLog((line) => line.msg === 'persisted query list loaded' && line.partnerId === partnerId && line.version === next, 5_000);
      expect(await heldVersion(gateway)).toBe(next);
      expect(await heldVersion(gateway, other)).toBeUndefined();
    }
  });

  const refusals: Array<[string, () => unknown, RegExp]> = [
    ['another format', () => ({ ...EXAMPLE, format: 'relay' }), /format must be "apollo-persisted-query-manifest"/],
    ['an id that is not the sha256 of its body', () => manifestOf({ ...EXAMPLE.operations[0]!, body: `${EXAMPLE.operations[0]!.body}\n` }), /is not the sha256 of its body/],
    ['a field the supergraph does not have', () => manifestOf(operation('Nope', 'query Nope { noSuchField }')), /Nope.*Cannot query field "noSuchField"/],
    ['an internal (@inaccessible) field', () => manifestOf(operation('Cost', 'query Cost { chatCost(modelId: "qwen-plus", inputTokens: 1, outputTokens: 1) }')), /Cannot query field "chatCost"/],
    [
      'an operation over the document limits',
      () => manifestOf(operation('Wide', `query Wide { conversations(first: 1) { edges { node { ${Array.from({ length: 40 }, (_, i) => `a${i}: id`).join(' ')} } } } }`)),
      /Wide.*too many aliases/,
    ],
    ['a body whose operation is not the one named', () => manifestOf(operation('Named', 'query Other { chatModels { id } }')), /exactly one operation, named Named/],
    ['a body of another type', () => manifestOf(operation('Models', 'query Models { chatModels { id } }', 'mutation')), /is a query, not a mutation/],
  ];
  for (const [what, manifest, message] of refusals) {
    it(`refuses ${what} with BAD_USER_INPUT, and the old list stays`, async () => {
      const before = await listNow();
      const events = (await publishEvents()).length;
      const answer = await publish(manifest(), { gateway: B });
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.body.errors?.[0]?.message).toMatch(message);
      expect(answer.body.data ?? null).toBeNull();
      expect(await listNow()).toEqual(before);
      expect(await publishEvents()).toHaveLength(events);
    });
  }

  it('is refused to a user who is not an ADMIN, whatever the manifest', async () => {
    for (const manifest of [EXAMPLE, manifestOf(operation('Nope', 'query Nope { noSuchField }'))]) {
      const answer = await publish(manifest, { token: userToken });
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const anonymous = await stack.request(PUBLISH, { variables: { partnerId, manifest: EXAMPLE } });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('numbers concurrent publishes one after the other', async () => {
    const { version } = await listNow();
    const answers = await Promise.all([publish(EXAMPLE), publish(manifestOf(EXAMPLE.operations[0]!), { gateway: B }), publish(EXAMPLE)]);
    const versions = answers.map((answer) => answer.body.data.publishPersistedQueries.version as number).sort((a, b) => a - b);
    expect(versions).toEqual([version + 1, version + 2, version + 3]);
    expect((await listNow()).version).toBe(version + 3);
  });

  it('npm run pq:publish publishes a manifest file through the gateway', async () => {
    const { version } = await listNow();
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/pq-publish.ts', '--partner', partnerId, 'schema/operations/partner-example.manifest.json', '--gateway', stack.httpUrl(B)], {
      cwd: root,
      env: { ...process.env, FIREFLY_ACCESS_TOKEN: adminToken },
    });
    expect(stdout).toContain(`published ${EXAMPLE.operations.length} operations for partner ${partnerId}: version ${version + 1}`);
    expect((await listNow()).version).toBe(version + 1);

    const refused = await run(process.execPath, ['--import', 'tsx', 'scripts/pq-publish.ts', '--partner', partnerId, 'package.json', '--gateway', stack.httpUrl(B)], {
      cwd: root,
      env: { ...process.env, FIREFLY_ACCESS_TOKEN: adminToken },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/BAD_USER_INPUT: The manifest is refused/);
    expect((await listNow()).version).toBe(version + 1);
  }, 60_000);

  it('a list Redis lost is copied back from MySQL by the sync job, and gateways load it again', async () => {
    const { version } = await listNow();
    // What a Redis restart without persistence (or a failed copy after the commit) leaves behind.
    await stack.redis.hdel('persisted-query-lists', partnerId);
    await stack.redis.hdel('persisted-query-lists:versions', partnerId);
    const restored = Date.now();
    for (;;) {
      const copy = await stack.redis.hget('persisted-query-lists:versions', partnerId);
      if (copy !== null) {
        expect(Number(copy)).toBe(version);
        break;
      }
      expect(Date.now() - restored, 'the sync job did not restore the list').toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A gateway started now loads it from Redis.
    const fresh = await stack.addGateway();
    await fresh.waitForLog((line) => line.msg === 'persisted query list loaded' && line.partnerId === partnerId && line.version === version, 5_000);
    await fresh.stop();
  }, 60_000);
});
