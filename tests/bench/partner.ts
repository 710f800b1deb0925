/**
 * `npm run bench -- --partner`: what a partner request costs the gateway. The Dashboard query (all four subgraphs)
 * four ways, against one gateway process (gateway/src/main.ts) in rotating rounds:
 *
 *   (a) user-text:          a signed-in user sends the query text with a bearer token (ordinary client). The text is
 *                           the same every time, so after the first request the gateway's caches (parsed and validated
 *                           documents, document limits, query plans) answer: this case does not parse;
 *   (b) user-text-uncached: the same, but every request's text is new (a comment with a counter in front of the same
 *                           query), so every request is parsed, validated, checked against the limits and planned —
 *                           what free text costs a gateway that has not seen it;
 *   (c) partner-signed:     a partner key that requires signatures sends only the persisted id (HMAC-SHA256 over the
 *                           canonical string, a fresh nonce per request, remembered in Redis);
 *   (d) partner-unsigned:   a key without signing sends only the id (so the signature's own cost shows as c − d).
 *
 * The partner's account is the same user as (a)'s, so every case asks the subgraphs for the same data. Gateway CPU per
 * request is read from /proc (user + system time of the gateway process over the requests it answered). Writes
 * tests/bench/results/partner-<timestamp>.json. Env: BENCH_ROUNDS (3), BENCH_SECONDS (8), BENCH_CONNECTIONS (16), BENCH_PROFILE
 * (1: a CPU profile of the gateway).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createDb } from '@firefly/db';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { seedUserWithHistory } from '../src/fixtures.ts';
import { startStack, type Stack } from '../src/subscription-stack.ts';
import { cpuMs, median } from './process-cpu.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const MANIFEST = JSON.parse(readFileSync(new URL('../../schema/operations/partner-example.manifest.json', import.meta.url), 'utf8')) as {
  operations: Array<{ id: string; name: string; body: string }>;
};
const DASHBOARD = MANIFEST.operations.find((operation) => operation.name === 'Dashboard')!;

type CaseName = 'user-text' | 'user-text-uncached' | 'partner-signed' | 'partner-unsigned';

interface Case {
  body: string;
  headers: Record<string, string>;
  /** Headers computed per request (the signature: a fresh nonce and timestamp every time). */
  perRequest?: () => Record<string, string>;
  /** A body computed per request (a document the gateway has not seen yet). */
  bodyPerRequest?: () => string;
}

interface Measurement {
  requestsPerSecond: number;
  gatewayCpuMsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}


async function measure(url: string, target: Case, seconds: number, pid: number): Promise<Measurement> {
  const before = cpuMs(pid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        body: target.body,
        headers: { 'content-type': 'application/json', ...target.headers },
        ...(target.perRequest || target.bodyPerRequest
          ? {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                ...(target.perRequest ? { headers: { ...request.headers, ...target.perRequest() } } : {}),
                ...(target.bodyPerRequest ? { body: target.bodyPerRequest() } : {}),
              }),
            }
          : {}),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    gatewayCpuMsPerRequest: (cpuMs(pid) - before) / Math.max(1, result.requests.total),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** The contract's signature headers for a POST to /graphql of `body`. */
function signer(secret: string, body: string): () => Record<string, string> {
  const bodyHash = createHash('sha256').update(body, 'utf8').digest('hex');
  return () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('base64url');
    const signature = createHmac('sha256', secret).update(`POST\n/graphql\n${timestamp}\n${nonce}\n${bodyHash}`, 'utf8').digest('base64');
    return { 'x-firefly-timestamp': timestamp, 'x-firefly-nonce': nonce, 'x-firefly-signature': signature };
  };
}

async function admin(stack: Stack, token: string, query: string, variables: Record<string, unknown> = {}) {
  const answer = await stack.request(query, { variables, token });
  if (answer.body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(answer.body.errors)}`);
  return answer.body.data;
}


export async function runPartnerBench(): Promise<void> {
  const database = await createScratchDatabase('firefly_bench_partner');
  const setupDb = createDb({ url: database.url, connectionLimit: 2 });
  await seed(setupDb);
  const alice = await seedUserWithHistory(setupDb, { tenantId: 'default', conversations: 20, imageJobs: 3, credits: 1000 });
  const boss = await seedUserWithHistory(setupDb, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await setupDb.user.update({ where: { id: boss.user.id }, data: { roles: 'USER,ADMIN' } });
  process.env.DATABASE_URL = database.url;
  process.env.REDIS_KEY_PREFIX = `bench:${randomBytes(4).toString('hex')}:`;

  let stack: Stack | undefined;
  try {
    stack = await startStack({
      services: ['user', 'billing', 'conversation', 'image'],
      // Every limit stays on; the bench's one user and keys just never reach theirs.
      gatewayEnv: { RATE_LIMIT_PER_USER: '1000000000/60' },
      // BENCH_PROFILE=1: a V8 CPU profile of the gateway in tests/bench/results/profiles/, to see where each case's time goes.
      gatewayNodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=tests/bench/results/profiles'] : [],
    });
    const gateway = stack.gateways[0]!;
    const adminToken = (await stack.tokenFor({ ...boss.user, roles: ['USER', 'ADMIN'] })).token;
    const userToken = (await stack.tokenFor(alice.user, { ttlSeconds: 3_600 })).token;

    const partnerId = (await admin(stack, adminToken, `mutation { createPartner(input: { name: "Bench partner" }) { id } }`)).createPartner.id as string;
    // The partner acts as Alice's account, so every case reads the same 20 conversations.
    await setupDb.partner.update({ where: { id: partnerId }, data: { accountUserId: alice.user.id } });
    const createKey = async (requireSignature: boolean) =>
      (
        await admin(stack!, adminToken, `mutation($id: ID!, $sign: Boolean) { createPartnerApiKey(partnerId: $id, requireSignature: $sign, rateLimitPerMinute: 100000) { key secret } }`, {
          id: partnerId,
          sign: requireSignature,
        })
      ).createPartnerApiKey as { key: string; secret: string | null };
    const signedKey = await createKey(true);
    const plainKey = await createKey(false);
    await admin(stack, adminToken, `mutation($id: ID!, $manifest: JSON!) { publishPersistedQueries(partnerId: $id, manifest: $manifest) { version } }`, {
      id: partnerId,
      manifest: MANIFEST,
    });

    let fresh = 0;
    const byId = JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: DASHBOARD.id } } });
    const cases: Record<CaseName, Case> = {
      'user-text': { body: JSON.stringify({ query: DASHBOARD.body }), headers: { authorization: `Bearer ${userToken}` } },
      'user-text-uncached': {
        body: JSON.stringify({ query: DASHBOARD.body }),
        headers: { authorization: `Bearer ${userToken}` },
        bodyPerRequest: () => JSON.stringify({ query: `# ${process.pid}-${++fresh}\n${DASHBOARD.body}` }),
      },
      'partner-signed': { body: byId, headers: { 'x-api-key': signedKey.key }, perRequest: signer(signedKey.secret!, byId) },
      'partner-unsigned': { body: byId, headers: { 'x-api-key': plainKey.key } },
    };
    // All three answer the same 20 conversations before anything is timed.
    for (const [name, target] of Object.entries(cases)) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...target.headers, ...target.perRequest?.() },
        body: target.bodyPerRequest?.() ?? target.body,
      });
      const body = (await response.json()) as { data?: { conversations: { edges: unknown[] } }; errors?: unknown };
      if (body.errors || body.data?.conversations.edges.length !== 20) throw new Error(`${name} answered wrongly: ${JSON.stringify(body).slice(0, 300)}`);
    }

    const names = Object.keys(cases) as CaseName[];
    console.log(`warming up; then ${ROUNDS} rotating rounds of ${DURATION}s per case, ${CONNECTIONS} connections`);
    for (const name of names) await measure(gateway.url, cases[name], 3, gateway.child.pid!);
    const rounds: Array<Record<CaseName, Measurement>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      const results = {} as Record<CaseName, Measurement>;
      for (const name of order) results[name] = await measure(gateway.url, cases[name], DURATION, gateway.child.pid!);
      rounds.push(results);
      console.log(`round ${round + 1}: ${names.map((name) => `${name} ${results[name].requestsPerSecond.toFixed(0)} req/s ${results[name].gatewayCpuMsPerRequest.toFixed(3)} CPU ms/req`).join(' · ')}`);
    }

    const summary = Object.fromEntries(
      names.map((name) => [
        name,
        {
          requestsPerSecond: median(rounds.map((r) => r[name].requestsPerSecond)),
          gatewayCpuMsPerRequest: median(rounds.map((r) => r[name].gatewayCpuMsPerRequest)),
          p50Ms: median(rounds.map((r) => r[name].p50Ms)),
          p99Ms: median(rounds.map((r) => r[name].p99Ms)),
          errors: rounds.reduce((n, r) => n + r[name].errors, 0),
        },
      ]),
    ) as Record<CaseName, Measurement>;
    const result = {
      at: new Date().toISOString(),
      query: 'Dashboard (schema/operations/partner-example): 20 conversations with model, owner, credit balance and image jobs (all four subgraphs)',
      connections: CONNECTIONS,
      secondsPerRound: DURATION,
      rounds,
      ...summary,
      partnerSignedVsUserTextCpu: summary['partner-signed'].gatewayCpuMsPerRequest / summary['user-text'].gatewayCpuMsPerRequest,
      partnerSignedVsUncachedTextCpu: summary['partner-signed'].gatewayCpuMsPerRequest / summary['user-text-uncached'].gatewayCpuMsPerRequest,
      /** Per round, so the noise of a loaded machine shows next to the medians. */
      perRoundPartnerSignedVs: rounds.map((r) => ({
        cachedText: r['partner-signed'].gatewayCpuMsPerRequest / r['user-text'].gatewayCpuMsPerRequest,
        uncachedText: r['partner-signed'].gatewayCpuMsPerRequest / r['user-text-uncached'].gatewayCpuMsPerRequest,
      })),
      signatureCpuMsPerRequest: summary['partner-signed'].gatewayCpuMsPerRequest - summary['partner-unsigned'].gatewayCpuMsPerRequest,
    };

    console.log('\n                   req/s     p50 ms   p99 ms   errors   gateway CPU ms/req');
    for (const name of names) {
      const s = summary[name];
      console.log(`${name.padEnd(18)} ${s.requestsPerSecond.toFixed(0).padStart(6)} ${String(s.p50Ms).padStart(9)} ${String(s.p99Ms).padStart(8)} ${String(s.errors).padStart(8)} ${s.gatewayCpuMsPerRequest.toFixed(3).padStart(12)}`);
    }
    console.log(`\ngateway CPU per request, partner by id (signed) / user text the gateway has cached: ${result.partnerSignedVsUserTextCpu.toFixed(3)}x (lower is cheaper)`);
    console.log(`gateway CPU per request, partner by id (signed) / user text new to the gateway (parsed): ${result.partnerSignedVsUncachedTextCpu.toFixed(3)}x`);
    console.log(`per round (signed/cached, signed/uncached): ${result.perRoundPartnerSignedVs.map((r) => `${r.cachedText.toFixed(3)}/${r.uncachedText.toFixed(3)}`).join(' · ')}`);
    console.log(`signature check (signed − unsigned): ${result.signatureCpuMsPerRequest.toFixed(3)} CPU ms/req`);
    const dir = new URL('results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`partner-${result.at.replace(/[:.]/g, '-')}.json`, dir);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`written to ${file.pathname}`);
  } finally {
    await stack?.stop();
    await setupDb.$disconnect();
    await database.drop();
  }
}
