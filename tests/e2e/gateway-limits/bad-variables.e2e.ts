// `variables` that are not an object — a string, a number, a boolean, an array, JSON text that does not parse — are
// the request's fault on every path a document reaches the gateway by: HTTP POST and GET, automatic persisted
// queries (registration and hash alone), a partner's persisted query list (by id, POST and GET) and graphql-ws.
// Each answers BAD_REQUEST (HTTP 400, no `data`; on graphql-ws the protocol's close 4400 Bad request, which the
// graphql-ws library sends before the gateway's admission, where the document limits would refuse it too), never
// INTERNAL_SERVER_ERROR or a 5xx, and the gateway keeps serving.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { openRaw } from '../../src/subscription-client.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = JSON.parse(readFileSync(`${root}schema/operations/partner-example.manifest.json`, 'utf8')) as {
  operations: Array<{ id: string; name: string; type: string; body: string }>;
};
const listed = EXAMPLE.operations.find((o) => o.name === 'Conversation')!;
const PUBLISH = `mutation Publish($partnerId: ID!, $manifest: JSON!) { publishPersistedQueries(partnerId: $partnerId, manifest: $manifest) { version } }`;
const QUERY = 'query Mine($n: Int) { conversations(first: $n) { edges { node { id } } } }';
/** JSON texts of `variables` values that are not objects. */
const BAD_VARIABLES = ['"x"', '"{\\"n\\": 1}"', '[1,2]', '[]', '5', 'true'];

let stack: Stack;
let token: string;
let partnerKey: string;

beforeAll(async () => {
  stack = await startStack({ services: ['billing', 'user', 'conversation'] });
  const seeded = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 1, imageJobs: 0, credits: 0 });
  await stack.db.user.update({ where: { id: seeded.user.id }, data: { roles: 'USER,ADMIN' } });
  token = (await stack.tokenFor({ ...seeded.user, roles: ['USER', 'ADMIN'] })).token;
  const admin = async (query: string, variables: Record<string, unknown> = {}) => {
    const answer = await stack.request(query, { variables, token });
    expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
    return answer.body.data;
  };
  const partner = (await admin(`mutation { createPartner(input: { name: "bad variables" }) { id } }`)).createPartner;
  partnerKey = (await admin(`mutation($id: ID!) { createPartnerApiKey(partnerId: $id) { key } }`, { id: partner.id })).createPartnerApiKey.key;
  await admin(PUBLISH, { partnerId: partner.id, manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: EXAMPLE.operations } });
  await stack.gateways[0]!.waitForLog((line) => line.msg === 'persisted query list loaded' && line.partnerId === partner.id, 120_000);
}, 300_000);
afterAll(() => stack?.stop());

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function postRaw(body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(stack.httpUrl(0), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function getRaw(params: Record<string, string>, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(stack.httpUrl(0));
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...headers } });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const bearer = () => ({ authorization: `Bearer ${token}` });

function expectBadRequest(answer: Answer, what: string) {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(400);
  expect(answer.body, what).not.toHaveProperty('data');
  expect(answer.body.errors?.map((e) => e.extensions?.code), what).toEqual(['BAD_REQUEST']);
  expect(answer.body.errors?.[0]?.message, what).toMatch(/variables/);
}

describe('variables that are not an object answer BAD_REQUEST (400), never 500', () => {
  it('HTTP POST and GET', async () => {
    for (const bad of BAD_VARIABLES) {
      expectBadRequest(await postRaw(`{"query":${JSON.stringify(QUERY)},"variables":${bad}}`, bearer()), `POST ${bad}`);
      expectBadRequest(await getRaw({ query: QUERY, variables: bad }, bearer()), `GET ${bad}`);
    }
    expectBadRequest(await getRaw({ query: QUERY, variables: '{not json' }, bearer()), 'GET with variables that are not JSON');
    // The same request with object variables runs.
    const fine = await postRaw(JSON.stringify({ query: QUERY, variables: { n: 1 } }), bearer());
    expect(fine.status).toBe(200);
    expect(fine.body.errors).toBeUndefined();
  });

  it('automatic persisted queries: registering, and by hash alone (POST and GET)', async () => {
    const query = `# ${randomUUID()}\n${QUERY}`;
    const hash = sha256(query);
    for (const bad of BAD_VARIABLES) {
      expectBadRequest(await postRaw(`{"query":${JSON.stringify(query)},"extensions":${JSON.stringify(persisted(hash))},"variables":${bad}}`, bearer()), `APQ register ${bad}`);
    }
    const registered = await postRaw(JSON.stringify({ query, extensions: persisted(hash), variables: { n: 1 } }), bearer());
    expect(registered.body.errors, JSON.stringify(registered.body)).toBeUndefined();
    for (const bad of BAD_VARIABLES) {
      expectBadRequest(await postRaw(`{"extensions":${JSON.stringify(persisted(hash))},"variables":${bad}}`, bearer()), `APQ hash POST ${bad}`);
      expectBadRequest(await getRaw({ extensions: JSON.stringify(persisted(hash)), variables: bad }, bearer()), `APQ hash GET ${bad}`);
    }
  });

  it("a partner's persisted query list, by id (POST and GET) and by listed body", async () => {
    const key = { 'x-api-key': partnerKey };
    for (const bad of BAD_VARIABLES) {
      expectBadRequest(await postRaw(`{"extensions":${JSON.stringify(persisted(listed.id))},"variables":${bad}}`, key), `PQ id POST ${bad}`);
      expectBadRequest(await getRaw({ extensions: JSON.stringify(persisted(listed.id)), variables: bad }, key), `PQ id GET ${bad}`);
      expectBadRequest(await postRaw(`{"query":${JSON.stringify(listed.body)},"variables":${bad}}`, key), `PQ body POST ${bad}`);
    }
    const fine = await postRaw(JSON.stringify({ extensions: persisted(listed.id), variables: { id: 'no-such-conversation' } }), key);
    expect(fine.status).toBe(200);
    expect(fine.body).toEqual({ data: { conversation: null } });
  });

  it('graphql-ws: a subscribe message with such variables is refused by the protocol (close 4400 Bad request)', async () => {
    const url = stack.httpUrl(0).replace(/^http/, 'ws');
    const subscription = 'subscription S($id: ID!) { messageStream(messageId: $id) { __typename } }';
    for (const bad of BAD_VARIABLES) {
      const socket = await openRaw(url);
      socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
      await socket.next((m) => m.type === 'connection_ack', 60_000);
      socket.sendRaw(`{"id":"1","type":"subscribe","payload":{"query":${JSON.stringify(subscription)},"variables":${bad}}}`);
      const closed = await socket.closed;
      expect(closed.code, bad).toBe(4400);
      expect(closed.reason, bad).toBe('Invalid message received');
    }
    // The gateway still serves subscriptions and queries.
    const after = await postRaw(JSON.stringify({ query: QUERY, variables: { n: 1 } }), bearer());
    expect(after.status).toBe(200);
  }, 300_000);
});
