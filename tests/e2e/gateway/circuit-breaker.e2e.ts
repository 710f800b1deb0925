// Circuit breakers and deadlines per subgraph, with every service in its own process (src/main.ts under tsx):
// a subgraph that dies or freezes costs only its own fields, its breaker opens and fails them fast, and the
// breaker closes again once the subgraph is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';
import { eventually, readMetric, startProcess, type ManagedProcess } from '../../src/subscription-processes.ts';

const TIMEOUT_MS = 5_000;
/** chatModels from conversation; `me` from user, its credit balance from billing. */
const ACROSS_BILLING = '{ chatModels { id } me { displayName creditBalance { available } } }';
/** products from billing; `me` from user, its conversations from conversation. */
const ACROSS_CONVERSATION = '{ products { id } me { displayName conversations(first: 1) { edges { node { id } } } } }';
let stack: Stack;
let token: string;
/** Started by a test, outside the stack: stopped here. */
let restarted: ManagedProcess | undefined;

beforeAll(async () => {
  stack = await startStack({
    services: ['billing', 'user', 'conversation'],
    gatewayEnv: { SUBGRAPH_BREAKER_FAILURES: '3', SUBGRAPH_BREAKER_HALF_OPEN_MS: '500', SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  const alice = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 1, imageJobs: 0, credits: 42 });
  token = (await stack.tokenFor(alice.user)).token;
  // Freshly started processes answer their first calls slowly (connections, JIT): wait until all answer in time.
  await eventually(async () => !(await ask(ACROSS_BILLING)).body.errors && !(await ask(ACROSS_CONVERSATION)).body.errors, 'every subgraph to answer', 60_000, 600);
}, 120_000);
afterAll(async () => {
  await restarted?.stop(5_000);
  await stack?.stop();
});

const circuit = (subgraph: string) => readMetric(stack.gateways[0]!.origin, 'gateway_subgraph_circuit_state', { subgraph });
/** Calls to `subgraph` that ended UPSTREAM_UNAVAILABLE for `reason` (timeout: the deadline ran out; circuit_open: refused by the breaker). */
const failures = async (subgraph: string, reason: string) => (await readMetric(stack.gateways[0]!.origin, 'gateway_subgraph_failures_total', { subgraph, reason })) ?? 0;

/** Asks `query` as the seeded user. */
async function ask(query: string) {
  return stack.request(query, { token });
}

/** One error, UPSTREAM_UNAVAILABLE naming `service` and why; `me` (which needed it) is null. */
function expectPartial(answer: Awaited<ReturnType<typeof ask>>, service: string, reason: string) {
  expect(answer.status).toBe(200);
  expect(answer.body.errors).toEqual([
    expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', service, reason }) }),
  ]);
  expect(answer.body.data.me).toBeNull();
}

describe('a subgraph that dies', () => {
  it('opens its breaker, its fields fail fast while the others still resolve, and a restart closes it', async () => {
    const healthy = await ask(ACROSS_BILLING);
    expect(healthy.body.errors).toBeUndefined();
    expect(healthy.body.data.me.creditBalance.available).toBe(42);
    expect(await circuit('billing')).toBe(0);

    const billing = stack.services.billing![0]!;
    const port = new URL(billing.url).port;
    await billing.kill();

    // Three failed calls (each a refused connection, tried once more as it is a query) open the breaker.
    for (let i = 0; i < 3; i++) {
      const answer = await ask(ACROSS_BILLING);
      expectPartial(answer, 'billing', 'unreachable');
      expect(answer.body.data.chatModels.length).toBeGreaterThan(0);
    }
    expect(await circuit('billing')).toBe(1);
    const open = await ask(ACROSS_BILLING);
    expectPartial(open, 'billing', 'circuit_open');
    expect(open.body.errors[0].message).toBe('The billing service is unavailable');
    expect(open.body.data.chatModels.length).toBeGreaterThan(0);
    expect(await circuit('conversation')).toBe(0);

    // Back on the same address: the next call after the half-open delay is the probe, and it closes the breaker.
    restarted = await startProcess('billing-2', 'subgraphs/billing/src/main.ts', { ...stack.env, BILLING_SUBGRAPH_PORT: port });
    const recovered = await eventually(async () => {
      const answer = await ask(ACROSS_BILLING);
      return answer.body.errors ? undefined : answer;
    }, 'the billing breaker to close', 20_000, 200);
    expect(recovered.body.data.me.creditBalance.available).toBe(42);
    expect(await circuit('billing')).toBe(0);
  }, 60_000);
});

describe('a subgraph that freezes', () => {
  it('times out at the deadline, then its open breaker answers at once, and it recovers when it thaws', async () => {
    const conversation = stack.services.conversation![0]!;
    conversation.child.kill('SIGSTOP');
    try {
      // Nothing answers: each call ends at the subgraph deadline (not never), with the other subgraphs' data.
      for (let i = 0; i < 3; i++) {
        const answer = await ask(ACROSS_CONVERSATION);
        expectPartial(answer, 'conversation', 'timeout');
        expect(answer.body.errors[0].message).toBe('The conversation service did not answer in time');
        expect(answer.body.data.products.length).toBeGreaterThan(0);
      }
      expect(await circuit('conversation')).toBe(1);
      // The breaker is open: the answer comes without waiting for the frozen subgraph's deadline — told by the
      // gateway's own counts (no call ran into a deadline, one was refused by the breaker), not by a wall-clock bound
      // a loaded machine can break.
      const [timeoutsBefore, refusedBefore] = [await failures('conversation', 'timeout'), await failures('conversation', 'circuit_open')];
      const fast = await ask(ACROSS_CONVERSATION);
      expectPartial(fast, 'conversation', 'circuit_open');
      expect(await failures('conversation', 'timeout')).toBe(timeoutsBefore);
      expect(await failures('conversation', 'circuit_open')).toBeGreaterThan(refusedBefore);
      expect(fast.body.data.products.length).toBeGreaterThan(0);
    } finally {
      conversation.child.kill('SIGCONT');
    }
    await eventually(async () => !(await ask(ACROSS_CONVERSATION)).body.errors, 'the conversation breaker to close', 20_000, 200);
    expect(await circuit('conversation')).toBe(0);
  }, 60_000);
});
