// The test harness leaves no process behind (issue 10): on a loaded machine a stack's start can time out (beforeAll's
// 120 s), and what it had launched used to keep running — gateways and subgraphs holding ports, connections and CPU.
// Every child of the harness is the leader of a process group of its own (tests/src/processes.ts) and is killed,
// with whatever it started, when its start fails or times out, and when the test process ends: by vitest's
// SIGTERM (how it ends a file's worker) or by exiting.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { groupMembers, liveChildren, spawnChild, spawnedChildren } from '../../src/processes.ts';
import { eventually, startProcess } from '../../src/subscription-processes.ts';
import { startStack } from '../../src/subscription-stack.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = 'tests/src/children-fixture-main.ts';
const VITEST = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
const NESTED_CONFIG = 'tests/src/nested/vitest.config.ts';

interface Pids {
  self: number;
  groups: number[];
  grandchild?: number;
}

const pidsFile = () => join(tmpdir(), `firefly-harness-${randomUUID()}.json`);
const readPids = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Pids;
/** Killed processes disappear once reaped; the safety net only bounds a failure. */
const allGone = (pgids: number[], what: string) => eventually(() => pgids.every((pgid) => groupMembers(pgid).length === 0), what, 30_000);

describe('the test harness leaves no process behind', () => {
  it('a process not ready in time is killed, with what it started', { timeout: 120_000 }, async () => {
    const file = pidsFile();
    const before = spawnedChildren().length;
    await expect(startProcess('never-ready', FIXTURE, { FIXTURE_MODE: 'never-ready', FIXTURE_PIDS_FILE: file }, { readyTimeoutMs: 30_000 })).rejects.toThrow(/no matching log line/);
    const [fixture] = spawnedChildren().slice(before);
    expect(fixture).toBeDefined();
    // Killed before the error reached the caller: the process and its group are gone (the group includes the
    // grandchild it started, when it got that far).
    expect(liveChildren()).not.toContain(fixture);
    await allGone([fixture!], 'the never-ready process group to be gone');
    if (existsSync(file)) expect(groupMembers(fixture!)).not.toContain(readPids(file).grandchild);
  });

  it('a stack whose start fails stops the processes that did start, once they settled', { timeout: 400_000 }, async () => {
    const before = spawnedChildren().length;
    // The conversation subgraph's node refuses an option and exits at once; the user subgraph, started beside it, is
    // still starting then. The start waits for both, then stops the user subgraph before it throws.
    await expect(startStack({ services: ['user', 'conversation'], serviceNodeArgs: { conversation: ['--no-such-node-option'] } })).rejects.toThrow(/conversation exited before it was ready/);
    const started = spawnedChildren().slice(before);
    expect(started).toHaveLength(2);
    expect(liveChildren().filter((pid) => started.includes(pid))).toEqual([]);
    await allGone(started, "the stack's process groups to be gone");
  });

  // The case the harness's process groups are for, end to end: a real vitest run of a file whose beforeAll times out
  // in the middle of startStack (tests/src/nested/hook-timeout.fixture.ts). The hook's timeout only has to outlast
  // spawning two processes (they never become ready, so it always ends the hook); the outer timeouts leave room for
  // a nested vitest starting on a loaded machine.
  it('a test file whose beforeAll times out while its stack starts leaves nothing running', { timeout: 400_000 }, async () => {
    const file = pidsFile();
    // The outer run's database and Redis prefix, without the variables vitest sets for its own workers.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
    const nested = spawnChild(process.execPath, [VITEST, 'run', '--config', NESTED_CONFIG], {
      cwd: REPO_ROOT,
      env: { ...env, NESTED_PIDS_FILE: file, NESTED_HOOK_TIMEOUT_MS: '30000', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    nested.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    nested.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => nested.once('exit', (exitCode) => resolve(exitCode)));
    expect(output).toMatch(/Hook timed out in 30000ms/);
    expect(code).toBe(1);
    expect(existsSync(file), output).toBe(true);
    const pids = JSON.parse(readFileSync(file, 'utf8')) as number[];
    expect(pids).toHaveLength(2);
    // The nested file's worker killed both process groups as it ended (vitest's SIGTERM or its exit).
    await allGone(pids, "the timed-out file's process groups to be gone");
  });

  for (const [ending, mode] of [
    ["vitest's SIGTERM", 'children'],
    ['exit(0)', 'children-then-exit'],
  ] as const) {
    it(`a test process ended by ${ending} kills every child it started, and their children`, { timeout: 120_000 }, async () => {
      const file = pidsFile();
      const testProcess = spawnChild(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: REPO_ROOT, env: { ...process.env, FIXTURE_MODE: mode, FIXTURE_PIDS_FILE: file }, stdio: 'ignore' });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => testProcess.once('exit', (code, signal) => resolve({ code, signal })));
      // Written once both children run their grandchildren.
      await eventually(() => existsSync(file) || testProcess.exitCode !== null, 'the fixture to start its children', 60_000);
      const pids = readPids(file);
      expect(pids.groups).toHaveLength(2);
      if (mode === 'children') {
        for (const pgid of pids.groups) expect(groupMembers(pgid)).toHaveLength(2);
        testProcess.kill('SIGTERM');
        // The signal still ends it as before (the hook kills the children, then lets SIGTERM take its course).
        expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
      } else {
        expect(await exited).toEqual({ code: 0, signal: null });
      }
      await allGone(pids.groups, 'every child and grandchild to be gone');
    });
  }
});
