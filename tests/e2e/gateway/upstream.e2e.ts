import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';

let sg: Supergraph;
let carol: SeededUser;

beforeAll(async () => {
  sg = await startSupergraph();
  carol = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 2, imageJobs: 0, credits: 42 });
});
afterAll(() => sg?.stop());

it('answers what it can and reports a subgraph that is down as UPSTREAM_UNAVAILABLE, naming it', async () => {
  const token = await sg.tokenFor(carol.user);
  const query = `{ me { displayName creditBalance { available } } conversations { edges { node { title } } } }`;
  const before = await sg.request(query, { token });
  expect(before.body.errors).toBeUndefined();
  expect(before.body.data!.me.creditBalance.available).toBe(42);

  await sg.servers.billing.stop();
  const after = await sg.request(query, { token });
  expect(after.status).toBe(200);
  expect(after.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', service: 'billing' });
  expect(after.body.errors?.[0]?.message).toBe('The billing service is unavailable');
  // Nothing from the socket error (addresses, errno) reaches the client.
  expect(JSON.stringify(after.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  // The other subgraphs' data still arrives.
  expect(after.body.data!.conversations.edges).toHaveLength(2);
});
