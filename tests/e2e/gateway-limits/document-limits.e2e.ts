/**
 * Document limits at the gateway (separate processes, real MariaDB and Redis): depth, aliases, root fields, tokens
 * and cost refuse a document before anything executes — no `data` key, HTTP 400, the contract's codes — on HTTP and
 * graphql-ws alike; the time to decide grows linearly with the document (asserted as a ratio between sizes, never as
 * an absolute time), and `/healthz` answers while the largest document is being decided.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { openRaw } from '../../src/subscription-client.ts';
import type { ManagedProcess } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

let stack: Stack;
let alice: SeededUser;
/** Every limit at its default. */
let strict: ManagedProcess;
/** Only the cost limit (and depth) left: documents far past the token limit reach the other checks. */
let lenient: ManagedProcess;

beforeAll(async () => {
  stack = await startStack({ services: ['user', 'conversation'] });
  strict = stack.gateways[0]!;
  lenient = await stack.addGateway({ MAX_QUERY_TOKENS: '1000000', MAX_QUERY_ALIASES: '1000000', MAX_QUERY_ROOT_FIELDS: '1000000', MAX_QUERY_EXPANDED_FIELDS: '1000000000' });
  alice = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 1, imageJobs: 0, credits: 0 });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

// ---- documents of growing size, one family per limit -------------------------------------------------------------

/** The attack: `query{...F0}` and n fragments, each spreading the next one twice (2^n fields expanded). */
const fragmentFanOut = (n: number) =>
  `query FanOut { ...F0 } ${Array.from({ length: n }, (_, i) => (i === n - 1 ? `fragment F${i} on Query { chatModels { id } }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`)).join(' ')}`;
/** The same below the root: one root field, 2^n fields once the fragments are expanded. */
const nestedFanOut = (n: number) =>
  `query NestedFanOut { chatModels { ...F0 } } ${Array.from({ length: n }, (_, i) => (i === n - 1 ? `fragment F${i} on ChatModel { id }` : `fragment F${i} on ChatModel { id ...F${i + 1} ...F${i + 1} }`)).join(' ')}`;
/** n aliases of the model catalog (each one a SQL query in the subgraph if it ran). */
const aliases = (n: number) => `query Aliases { ${Array.from({ length: n }, (_, i) => `m${i}: chatModels { id name }`).join(' ')} }`;
/** One valid field and n tokens of padding in an argument list the parser must read. */
const tokens = (n: number) => `query Tokens { chatModels(${Array.from({ length: n }, (_, i) => `a${i}: 1`).join(' ')}) { id } }`;
/** n aliased pages of 100 conversations with 100 messages each: cost 100 × (3 + 100 × 2) per alias. */
const costly = (n: number) =>
  `query Costly { me { ${Array.from({ length: n }, (_, i) => `c${i}: conversations(first: 100) { edges { node { id messages(first: 100) { edges { node { id } } } } } }`).join(' ')} } }`;
const deep = (levels: number) => {
  let selection = 'id';
  for (let i = 0; i < levels; i++) selection = `conversations(first: 1) { edges { node { owner { ${selection} } } } }`;
  return `query Deep { me { ${selection} } }`;
};

interface Refusal {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(gateway: ManagedProcess, query: string, token?: string): Promise<Refusal> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Refusal['body'] };
}

function expectRefused(refusal: Refusal, code: string) {
  expect(refusal.status).toBe(400);
  expect(refusal.body).not.toHaveProperty('data');
  expect(refusal.body.errors?.[0]?.extensions?.code).toBe(code);
}

describe('each limit refuses with the contract code, before anything runs, on HTTP', () => {
  it('depth: 15 levels of fields at most', async () => {
    const { token } = await stack.tokenFor(alice.user);
    expect((await post(strict, deep(3), token)).body.errors).toBeUndefined();
    expectRefused(await post(strict, deep(4), token), 'GRAPHQL_VALIDATION_FAILED');
  });

  it('aliases: 30 at most — 5,000 aliases of the model catalog never reach the subgraph either', async () => {
    expect((await post(strict, aliases(20))).body.data).toBeDefined();
    expectRefused(await post(strict, aliases(31)), 'GRAPHQL_VALIDATION_FAILED');
    // 5,000 of them are also over the token limit, which the parser meets first.
    expectRefused(await post(strict, aliases(5_000)), 'BAD_USER_INPUT');
  });

  it('root fields: 20 at most, counted through fragments — the 800-byte fragment fan-out is refused at once', async () => {
    const attack = fragmentFanOut(21);
    expect(attack.length).toBeLessThan(1_000);
    expectRefused(await post(strict, attack), 'GRAPHQL_VALIDATION_FAILED');
  });

  it('fields once fragments are expanded: a fan-out below the root is refused too', async () => {
    expectRefused(await post(strict, nestedFanOut(21)), 'GRAPHQL_VALIDATION_FAILED');
    expect((await post(strict, nestedFanOut(3))).body.data).toBeDefined();
  });

  it('tokens: 10,000 at most', async () => {
    expectRefused(await post(strict, tokens(6_000)), 'BAD_USER_INPUT');
  });

  it('cost: lists cost their `first`; over the limit is COST_ESTIMATED_TOO_EXPENSIVE with the figures', async () => {
    const { token } = await stack.tokenFor(alice.user);
    const cheap = await post(strict, `query { me { conversations(first: 5) { edges { node { id messages(first: 5) { edges { node { id } } } } } } } }`, token);
    expect(cheap.body.errors).toBeUndefined();
    const refused = await post(strict, costly(1), token);
    expectRefused(refused, 'COST_ESTIMATED_TOO_EXPENSIVE');
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ cost: expect.any(Number), maxCost: 5_000 });
    // The size comes from the variables when `first` is one.
    const viaVariables = await fetch(strict.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `query ($n: Int) { me { conversations(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } } } }`, variables: { n: 100 } }),
    });
    expect(viaVariables.status).toBe(400);
    expect(((await viaVariables.json()) as Refusal['body']).errors?.[0]?.extensions?.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    // The gateway remembers costs per document: the same text is priced anew for other values of its variables, and
    // an absent variable takes its default (100).
    const sized = (variables: Record<string, unknown>) =>
      fetch(strict.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `query Sized($n: Int = 100) { me { conversations(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } } } }`, variables }),
      });
    expect((await sized({ n: 3 })).status).toBe(200);
    expect((await sized({ n: 100 })).status).toBe(400);
    expect((await sized({ n: 3 })).status).toBe(200);
    expect((await sized({})).status).toBe(400);
  });
});

describe('graphql-ws applies the very same limits', () => {
  it('refuses each family with the same codes on a subscribe message', async () => {
    const { token } = await stack.tokenFor(alice.user);
    const socket = await openRaw(strict.url.replace(/^http/, 'ws'));
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await socket.next((m) => m.type === 'connection_ack');
    const cases: Array<[string, string]> = [
      [fragmentFanOut(21), 'GRAPHQL_VALIDATION_FAILED'],
      [nestedFanOut(21), 'GRAPHQL_VALIDATION_FAILED'],
      [aliases(31), 'GRAPHQL_VALIDATION_FAILED'],
      [aliases(5_000), 'BAD_USER_INPUT'],
      [deep(4), 'GRAPHQL_VALIDATION_FAILED'],
      [tokens(6_000), 'BAD_USER_INPUT'],
      [costly(1), 'COST_ESTIMATED_TOO_EXPENSIVE'],
    ];
    for (const [index, [query, code]] of cases.entries()) {
      socket.send({ id: String(index), type: 'subscribe', payload: { query } });
      const answer = await socket.next((m) => m.id === String(index));
      expect(answer.type).toBe('error');
      expect((answer.payload as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe(code);
    }
    socket.socket.close();
  });
});

describe('deciding stays linear in the size of the document', () => {
  /** CPU time (user + system, ms) a process has used so far (Linux /proc; 10 ms ticks). */
  function cpuMs(pid: number): number {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  /**
   * The gateway's CPU time to decide `query`, `repeat` times: CPU time rather than wall time, so other processes on
   * a busy machine do not count.
   */
  async function decisionCpuMs(gateway: ManagedProcess, query: string, code: string, repeat: number): Promise<number> {
    const before = cpuMs(gateway.child.pid!);
    for (let i = 0; i < repeat; i++) expectRefused(await post(gateway, query), code);
    return cpuMs(gateway.child.pid!) - before;
  }

  // Four times the document must cost about four times as much; a quadratic check would cost sixteen times, the
  // old fragment walk 2^n times. The bound leaves room for noise on a busy machine.
  const families: Array<{ name: string; make: (n: number) => string; small: number; gateway: () => ManagedProcess; code: string }> = [
    { name: 'fragment fan-out', make: fragmentFanOut, small: 450, gateway: () => lenient, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'nested fragment fan-out', make: nestedFanOut, small: 450, gateway: () => lenient, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'aliases', make: aliases, small: 4_000, gateway: () => lenient, code: 'COST_ESTIMATED_TOO_EXPENSIVE' },
    { name: 'cost', make: costly, small: 600, gateway: () => lenient, code: 'COST_ESTIMATED_TOO_EXPENSIVE' },
    { name: 'tokens', make: tokens, small: 15_000, gateway: () => strict, code: 'BAD_USER_INPUT' },
  ];
  for (const family of families) {
    it(`${family.name}: four times the document, at most about four times the time`, async () => {
      const small = family.make(family.small);
      const large = family.make(family.small * 4);
      expect(large.length).toBeLessThan(1_000_000);
      const gateway = family.gateway();
      // Warm up (JIT), then repeat the small document until its CPU time is well above the clock's 10 ms ticks.
      await decisionCpuMs(gateway, large, family.code, 1);
      let repeat = 1;
      let smallMs = await decisionCpuMs(gateway, small, family.code, repeat);
      while (smallMs < 300 && repeat < 64) {
        repeat *= 2;
        smallMs = await decisionCpuMs(gateway, small, family.code, repeat);
      }
      const largeMs = await decisionCpuMs(gateway, large, family.code, repeat);
      const ratio = largeMs / Math.max(smallMs, 10);
      expect(ratio).toBeLessThan(10);
    });
  }

  it('/healthz answers while the largest document is being decided', async () => {
    const largest = aliases(28_000);
    expect(largest.length).toBeGreaterThan(700_000);
    const decided = post(lenient, largest);
    const health = await fetch(new URL('/healthz', lenient.url));
    expect(health.status).toBe(200);
    expectRefused(await decided, 'COST_ESTIMATED_TOO_EXPENSIVE');
  });
});
