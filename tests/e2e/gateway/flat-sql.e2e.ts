import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';

// Issue 15, "SQL stays flat": the SQL statements one request costs must not grow with the length of the list it
// reads. Every per-item field (model, last message, owner, balance, image jobs) comes through a per-request loader
// or the gateway's one-per-distinct-representation fetch, so 1, 10 and 100 conversations cost the same.
let sg: Supergraph;
let carol: SeededUser;

beforeAll(async () => {
  sg = await startSupergraph();
  carol = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 100, imageJobs: 3, credits: 500 });
}, 180_000);

afterAll(async () => {
  await sg?.stop();
});

const QUERY = /* GraphQL */ `
  query Conversations($first: Int!) {
    conversations(first: $first) {
      edges {
        node {
          id
          title
          model { name }
          lastMessage { role content }
          owner { id displayName creditBalance { available reserved } imageJobs(first: 3) { edges { node { id status prompt } } } }
        }
      }
    }
  }
`;

describe('SQL per request', () => {
  it('is the same for lists of 1, 10 and 100 conversations with model, last message, owner, balance and image jobs', async () => {
    const token = await sg.tokenFor(carol.user);
    const statementsFor = async (first: number) => {
      sg.resetQueryLog();
      const { body } = await sg.request(QUERY, { token, variables: { first } });
      expect(body.errors).toBeUndefined();
      const edges = body.data!.conversations.edges as Array<{ node: { lastMessage: { role: string } | null; owner: { id: string; creditBalance: { available: number }; imageJobs: { edges: unknown[] } } } }>;
      // The answer is complete at every size, so a constant count is not a sign of missing data.
      expect(edges).toHaveLength(first);
      for (const { node } of edges) {
        expect(node.lastMessage?.role).toBe('ASSISTANT');
        expect(node.owner).toMatchObject({ id: carol.user.id, creditBalance: { available: 500 } });
        expect(node.owner.imageJobs.edges).toHaveLength(3);
      }
      // Each statement by the table it reads (a batch's text grows with its ids; the table it reads does not).
      return sg.queries.map((event) => /\bFROM `(\w+)`/.exec(event.query)?.[1] ?? event.query).sort();
    };
    // The subgraphs' background jobs (sweepers) share the query log; they only ever add statements, so the fewest of
    // three tries is the request's own cost.
    const fewest = async (first: number) => {
      const tries = [await statementsFor(first), await statementsFor(first), await statementsFor(first)];
      return tries.reduce((a, b) => (b.length < a.length ? b : a));
    };

    const one = await fewest(1);
    const ten = await fewest(10);
    const hundred = await fewest(100);
    expect(one.length).toBeGreaterThan(0);
    expect(ten).toEqual(one);
    expect(hundred).toEqual(one);
  });
});
