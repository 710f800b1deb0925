/**
 * `npm run bench -- --ab <checkout>`: our gateway as it is in another checkout (A, e.g. a worktree of main) against
 * this one (B), on the same subgraph processes (this checkout's), the bench's per-user Dashboard traffic, in
 * alternating short windows (A B B A A B …) so that whatever else the machine does falls on both alike. Prints the
 * gateway CPU per request of each window and the per-pair ratio B/A, with its median and range: a change's effect
 * on the gateway's own cost, readable on a machine too busy for `npm run bench`'s absolute figures (the ratio of two
 * processes measured seconds apart is what survives the noise; absolute ms/req and req/s do not).
 * AB_ROUNDS (default 8), AB_SECONDS (4), BENCH_CONNECTIONS (16); AB_NODE_FLAGS_A / AB_NODE_FLAGS_B add Node flags to one
 * side (the checkout may then be this one: `--ab .` measures a flag alone); BENCH_PROFILE=1 writes a V8 CPU profile
 * of both gateways (BENCH_PROFILE=subgraphs: of the subgraphs too).
 * AB_SUBGRAPHS=1: each side runs its own checkout's four subgraphs as well (A's gateway calls A's subgraphs), and
 * each window also reports the subgraphs' CPU per request; the pairs' ratio is then of the subgraphs' total, for
 * judging a change to the subgraphs or server-kit. With AB_INSTRUCTIONS=1 it is the subgraphs' instructions that
 * are counted (gateways run normally); AB_COUNT=conversation,user names the ones run under Callgrind and counted
 * (default all four: eight processes under Valgrind start slowly on a loaded machine).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { createAccessTokenIssuer, generateSigningKey } from '@firefly/auth';
import { createSessionStore } from '@firefly/auth/sessions';
import { createDb } from '@firefly/db';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { closeRedis, createRedis } from '@firefly/redis';
import { seedUserWithHistory } from '../src/fixtures.ts';
import { cpuMs, loadAverage, median } from './process-cpu.ts';
import { waitHealthy } from './wait-healthy.ts';

const QUERY = /* GraphQL */ `
  query Dashboard {
    conversations(first: 20) {
      edges { node { id title updatedAt model { name } owner { id displayName creditBalance { available reserved } imageJobs(first: 3) { edges { node { id status prompt } } } } } }
    }
  }
`;

export async function runAbBench(otherCheckout: string): Promise<void> {
  const base = resolve(otherCheckout);
  if (!existsSync(resolve(base, 'gateway/src/main.ts'))) throw new Error(`${base} is not a checkout of this project (no gateway/src/main.ts)`);
  const rounds = Number(process.env.AB_ROUNDS ?? 8);
  const seconds = Number(process.env.AB_SECONDS ?? 4);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
  const instructions = process.env.AB_INSTRUCTIONS === '1';
  const ownSubgraphs = process.env.AB_SUBGRAPHS === '1';
  const root = new URL('../../', import.meta.url).pathname;
  const children: ChildProcess[] = [];
  const database = await createScratchDatabase('firefly_bench_ab');
  try {
    const db = createDb({ url: database.url, connectionLimit: 4 });
    await seed(db);
    const users = [];
    for (let i = 0; i < connections; i++) users.push(await seedUserWithHistory(db, { tenantId: 'default', conversations: 20, imageJobs: 3, credits: 1000 }));
    await db.$disconnect();

    const secret = randomBytes(32).toString('hex');
    const redisPrefix = `bench-ab:${secret.slice(0, 8)}:`;
    const key = await generateSigningKey('bench');
    const subgraphNames = ['user', 'conversation', 'image', 'billing'] as const;
    type SubgraphName = (typeof subgraphNames)[number];
    const subgraphPorts = (first: number) => Object.fromEntries(subgraphNames.map((name, i) => [name, first + i])) as Record<SubgraphName, number>;
    // B's subgraphs (this checkout's) serve both gateways unless AB_SUBGRAPHS=1 gives A its own.
    const ports = { b: subgraphPorts(14201), a: ownSubgraphs ? subgraphPorts(14221) : subgraphPorts(14201), gatewayA: 14210, gatewayB: 14211 };
    const subgraphUrls = (side: Record<SubgraphName, number>) => ({
      USER_SUBGRAPH_URL: `http://127.0.0.1:${side.user}/graphql`,
      CONVERSATION_SUBGRAPH_URL: `http://127.0.0.1:${side.conversation}/graphql`,
      IMAGE_SUBGRAPH_URL: `http://127.0.0.1:${side.image}/graphql`,
      BILLING_SUBGRAPH_URL: `http://127.0.0.1:${side.billing}/graphql`,
    });
    const envOf = (side: Record<SubgraphName, number>) => ({
      ...process.env,
      ...subgraphUrls(side),
      DATABASE_URL: database.url,
      INTERNAL_TOKEN_SECRET: secret,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_KEY_PREFIX: redisPrefix,
      ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]),
      USER_SUBGRAPH_PORT: String(side.user),
      CONVERSATION_SUBGRAPH_PORT: String(side.conversation),
      IMAGE_SUBGRAPH_PORT: String(side.image),
      BILLING_SUBGRAPH_PORT: String(side.billing),
      RATE_LIMIT_PER_USER: '1000000000/60',
      RATE_LIMIT_ANONYMOUS_PER_IP: '1000000000/60',
    });
    // AB_COUNT: the subgraphs counted (and run under Callgrind) with AB_SUBGRAPHS=1 AB_INSTRUCTIONS=1; default all four.
    const counted = (process.env.AB_COUNT ?? subgraphNames.join(',')).split(',').map((name) => name.trim());
    // AB_INSTRUCTIONS=1: under Callgrind, instrumenting nothing until the measured windows (callgrind_control).
    const callgrind = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--callgrind-out-file=/dev/null'];
    const startSubgraphs = (cwd: string, side: Record<SubgraphName, number>, label: 'a' | 'b') =>
      Object.fromEntries(
        subgraphNames.map((name) => {
          // BENCH_PROFILE=subgraphs profiles the subgraph processes too.
          const subgraphProfile = process.env.BENCH_PROFILE === 'subgraphs' ? ['--cpu-prof', `--cpu-prof-dir=${resolve(root, `tests/bench/results/profiles/ab-${ownSubgraphs ? `${label}-` : ''}${name}`)}`] : [];
          const node = [process.execPath, ...subgraphProfile, '--import', 'tsx', `subgraphs/${name}/src/main.ts`];
          const command = instructions && ownSubgraphs && counted.includes(name) ? [...callgrind, ...node] : node;
          const child = spawn(command[0]!, command.slice(1), { cwd, env: envOf(side), stdio: ['ignore', 'ignore', 'inherit'] });
          children.push(child);
          return [name, child.pid!];
        }),
      ) as Record<SubgraphName, number>;
    const subgraphPids = { b: startSubgraphs(root, ports.b, 'b'), a: ownSubgraphs ? startSubgraphs(base, ports.a, 'a') : undefined };
    const profile = (dir: string) => (process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
    const gateway = (cwd: string, port: number, label: 'a' | 'b') => {
      const flags = (process.env[`AB_NODE_FLAGS_${label.toUpperCase()}`] ?? '').split(' ').filter(Boolean);
      const node = [process.execPath, ...flags, ...profile(resolve(root, `tests/bench/results/profiles/ab-${label}`)), '--import', 'tsx', 'gateway/src/main.ts'];
      const command = instructions && !ownSubgraphs ? [...callgrind, ...node] : node;
      const child = spawn(command[0]!, command.slice(1), {
        cwd,
        env: { ...envOf(ports[label]), GATEWAY_PORT: String(port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const a = gateway(base, ports.gatewayA, 'a');
    const b = gateway(root, ports.gatewayB, 'b');
    const allPorts = [ports.gatewayA, ports.gatewayB, ...Object.values(ports.a), ...Object.values(ports.b)];
    await Promise.all([...new Set(allPorts)].map((port) => waitHealthy(port, 600_000)));

    const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: redisPrefix, name: 'bench-ab' });
    const issuer = createAccessTokenIssuer([key], { issuer: 'firefly', audience: 'firefly-api', ttlSeconds: 3600 });
    const tokens: string[] = [];
    for (const [i, user] of users.entries()) {
      const session = { sessionId: `bench-ab-${i}`, userId: user.user.id, tenantId: 'default', roles: ['USER' as const], expiresAt: Date.now() + 3_600_000 };
      await createSessionStore(redis).save(session);
      tokens.push(await issuer.issue(session));
    }
    await closeRedis(redis);

    const pick = (pids: Record<SubgraphName, number>) => Object.fromEntries(Object.entries(pids).filter(([name]) => counted.includes(name)));
    const targets = {
      a: { port: ports.gatewayA, pid: a.pid!, subgraphs: subgraphPids.a ?? subgraphPids.b, counted: pick(subgraphPids.a ?? subgraphPids.b) },
      b: { port: ports.gatewayB, pid: b.pid!, subgraphs: subgraphPids.b, counted: pick(subgraphPids.b) },
    };
    const load = (port: number, duration: number) => {
      let connection = 0;
      return autocannon({
        url: `http://127.0.0.1:${port}/graphql`,
        method: 'POST',
        connections,
        duration,
        body: JSON.stringify({ query: QUERY }),
        setupClient: (client) => client.setHeaders({ 'content-type': 'application/json', authorization: `Bearer ${tokens[connection++ % tokens.length]}` }),
      });
    };
    for (const target of Object.values(targets)) {
      const check = await load(target.port, instructions ? 10 : 1);
      if (check.non2xx > 0 || check.errors > 0) throw new Error(`gateway on ${target.port} answered with errors`);
    }
    if (instructions) return await countInstructions(targets, tokens, rounds, ownSubgraphs);
    console.log(`A = ${base}, B = ${root}${ownSubgraphs ? ' (each with its own subgraphs)' : ''}: 10 s warm-up each, then ${rounds} pairs of ${seconds} s windows (order alternating), ${connections} users/connections`);
    for (const target of Object.values(targets)) await load(target.port, 10);
    const measure = async (target: (typeof targets)['a']) => {
      const before = cpuMs(target.pid);
      const subgraphsBefore = Object.values(target.subgraphs).map((pid) => cpuMs(pid));
      const result = await load(target.port, seconds);
      const requests = Math.max(1, result.requests.total);
      const subgraphCpu = Object.values(target.subgraphs).map((pid, i) => (cpuMs(pid) - subgraphsBefore[i]!) / requests);
      return {
        cpuMsPerRequest: (cpuMs(target.pid) - before) / requests,
        subgraphCpuMsPerRequest: subgraphCpu.reduce((sum, ms) => sum + ms, 0),
        perSubgraph: subgraphCpu,
        requestsPerSecond: result.requests.average,
        errors: result.errors + result.non2xx,
      };
    };
    const ratios: number[] = [];
    const subgraphRatios: number[] = [];
    const show = (m: Awaited<ReturnType<typeof measure>>) =>
      `${m.cpuMsPerRequest.toFixed(3)} ms/req` + (ownSubgraphs ? ` + subgraphs ${m.subgraphCpuMsPerRequest.toFixed(3)} (${m.perSubgraph.map((ms) => ms.toFixed(2)).join('/')})` : '') + ` (${m.requestsPerSecond.toFixed(0)} req/s)`;
    for (let round = 0; round < rounds; round++) {
      const first = round % 2 === 0 ? 'a' : 'b';
      const m: Record<string, Awaited<ReturnType<typeof measure>>> = {};
      m[first] = await measure(targets[first]);
      const second = first === 'a' ? 'b' : 'a';
      m[second] = await measure(targets[second]);
      const ratio = m.b!.cpuMsPerRequest / m.a!.cpuMsPerRequest;
      ratios.push(ratio);
      const subgraphRatio = m.b!.subgraphCpuMsPerRequest / m.a!.subgraphCpuMsPerRequest;
      subgraphRatios.push(subgraphRatio);
      console.log(
        `pair ${round + 1}: A ${show(m.a!)} · B ${show(m.b!)} · B/A ${ratio.toFixed(3)}` +
          (ownSubgraphs ? `, subgraphs B/A ${subgraphRatio.toFixed(3)}` : '') +
          ` · errors ${m.a!.errors + m.b!.errors} · load ${loadAverage().toFixed(1)}`,
      );
    }
    if (ownSubgraphs) {
      console.log(`B/A subgraph CPU per request (${subgraphNames.join(' + ')}): median ${median(subgraphRatios).toFixed(3)} (${Math.min(...subgraphRatios).toFixed(3)}–${Math.max(...subgraphRatios).toFixed(3)}) over ${rounds} pairs`);
    }
    console.log(`B/A gateway CPU per request: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}) over ${rounds} pairs`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await database.drop();
  }
}

/**
 * AB_INSTRUCTIONS=1: the instructions each gateway executes per request, counted by Callgrind — the same on a busy
 * machine as on a quiet one (other processes do not change what this one executes), so a change of a few percent
 * shows where CPU-time figures drown in noise. Each side in turn: AB_WARMUP_REQUESTS (default 600) uninstrumented,
 * then AB_REQUESTS (300) with counting on, 4 connections, each window after AB_LEAD_IN_REQUESTS (150) uncounted;
 * repeated `rounds` times (AB_ROUNDS, at most 4 here). With `subgraphs` (AB_SUBGRAPHS=1) the counted processes are the
 * side's four subgraphs (their instructions summed; each printed too), not its gateway.
 */
async function countInstructions(targets: Record<'a' | 'b', { port: number; pid: number; counted: Record<string, number> }>, tokens: string[], rounds: number, subgraphs: boolean) {
  const requests = Number(process.env.AB_REQUESTS ?? 300);
  const warmup = Number(process.env.AB_WARMUP_REQUESTS ?? 600);
  const leadIn = Number(process.env.AB_LEAD_IN_REQUESTS ?? 150);
  const fixed = (port: number, amount: number) => {
    let connection = 0;
    return autocannon({
      url: `http://127.0.0.1:${port}/graphql`,
      method: 'POST',
      connections: 4,
      amount,
      timeout: 120,
      body: JSON.stringify({ query: QUERY }),
      setupClient: (client) => client.setHeaders({ 'content-type': 'application/json', authorization: `Bearer ${tokens[connection++ % tokens.length]}` }),
    });
  };
  const control = (pid: number, ...args: string[]) => execFileSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  for (const target of Object.values(targets)) await fixed(target.port, warmup);
  const counted = (target: (typeof targets)['a']) => (subgraphs ? Object.entries(target.counted) : [['gateway', target.pid] as const]);
  for (const target of Object.values(targets)) for (const [, pid] of counted(target)) control(pid, '-i', 'on');
  const perRequest: Record<'a' | 'b', number[]> = { a: [], b: [] };
  for (let round = 0; round < Math.min(rounds, 4); round++) {
    for (const side of round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      const target = targets[side];
      // Re-warmed first: while the other side was measured this one sat idle, and V8 meanwhile flushes code of
      // functions not run lately (the first window after a pause counted up to 40% more instructions).
      await fixed(target.port, leadIn);
      for (const [, pid] of counted(target)) control(pid, '-z');
      const result = await fixed(target.port, requests);
      if (result.non2xx + result.errors > 0) throw new Error(`${side}: ${result.non2xx + result.errors} errors`);
      const each = counted(target).map(([name, pid]) => {
        // Per thread ("Th 1  1,234,567"): the main thread and V8's compiler and GC helpers, all of it the process's CPU.
        const threads = [...control(pid, '-e', 'Ir').matchAll(/^\s*Th\s+\d+\s+([\d,]+)/gm)].map((m) => Number(m[1]!.replaceAll(',', '')));
        if (threads.length === 0) throw new Error(`no count for ${side} ${name}`);
        return [name, threads.reduce((sum, n) => sum + n, 0) / result.requests.total] as const;
      });
      const ir = each.reduce((sum, [, n]) => sum + n, 0);
      if (subgraphs) console.log(`  ${side.toUpperCase()} ${each.map(([name, n]) => `${name} ${(n / 1e6).toFixed(3)} M`).join(' · ')}`);
      perRequest[side].push(ir);
      console.log(`${side.toUpperCase()}: ${(ir / 1e6).toFixed(3)} M instructions per request (${result.requests.total} requests)`);
    }
  }
  const a = median(perRequest.a);
  const b = median(perRequest.b);
  console.log(`instructions per request: A ${(a / 1e6).toFixed(3)} M, B ${(b / 1e6).toFixed(3)} M, B/A ${(b / a).toFixed(3)}`);
}

