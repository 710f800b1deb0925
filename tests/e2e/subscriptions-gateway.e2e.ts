/**
 * Federated subscriptions through the gateway, generically: the probe subgraph owns a Subscription field whose
 * events carry a User entity, so every event crosses three subgraphs (probe → user, billing). Separate processes
 * for the gateway and every subgraph; real MariaDB and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUserWithHistory, type SeededUser } from '../src/fixtures.ts';
import { codesOf, collect, connectClient, openRaw, type TestClient } from '../src/subscription-client.ts';
import { eventually, readMetric } from '../src/subscription-processes.ts';
import { startStack, type Stack } from '../src/subscription-stack.ts';

let stack: Stack;
let alice: SeededUser;
let bob: SeededUser;
const clients: TestClient[] = [];

const TICKS = /* GraphQL */ `
  subscription Ticks($count: Int!, $intervalMs: Int, $label: String, $userId: ID) {
    probeTicks(count: $count, intervalMs: $intervalMs, label: $label, userId: $userId) {
      seq
      label
      user { id displayName creditBalance { available } }
    }
  }
`;

function client(token?: string, connectionParams?: Record<string, unknown>): TestClient {
  const c = connectClient(stack.wsUrl(), { ...(token ? { token } : {}), ...(connectionParams ? { connectionParams } : {}) });
  clients.push(c);
  return c;
}

async function probeState(): Promise<{ active: number; started: number; returned: number; subscribers: Array<{ userId: string | null; requestId: string }> }> {
  return (await fetch(`${stack.services.probe![0]!.origin}/probe/state`)).json() as never;
}

beforeAll(async () => {
  stack = await startStack({ services: ['user', 'billing', 'probe'] });
  alice = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 120 });
  bob = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 7 });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack?.stop();
});

describe('a subscription through the gateway', () => {
  it('delivers every event with fields from three subgraphs, then completes', async () => {
    const { token } = await stack.tokenFor(alice.user);
    const c = client(token);
    const sub = collect<any>(c.client, TICKS, { count: 3, intervalMs: 20, label: 'hello' });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(sub.results.map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    expect(sub.results.map((r) => r.data)).toEqual(
      [1, 2, 3].map((seq) => ({
        probeTicks: { seq, label: 'hello', user: { id: alice.user.id, displayName: alice.user.displayName, creditBalance: { available: 120 } } },
      })),
    );
  });
});
