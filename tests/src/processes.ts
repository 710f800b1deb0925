/**
 * Child processes of a test (platform processes, a conversation replica, a redis-server) and the spare ports they
 * listen on. Every child is the leader of a process group of its own, and is tracked until it exits: when the test
 * process ends — normally, or stopped by vitest (SIGTERM) or by Ctrl-C — every tracked group still alive is killed
 * with SIGKILL. A test file whose beforeAll timed out while a stack was starting leaves nothing running: vitest ends
 * the file's worker, and with it whatever the unfinished start had launched.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
const spawned: number[] = [];

/** Signals the whole group of `child` (the child and anything it started); false when it is gone already. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    // Not a group leader after all (spawn failed half-way), or gone: the process itself.
    return child.kill(signal);
  }
}

/** SIGKILL to every tracked child's group, synchronously (usable in an 'exit' handler). Returns how many were alive. */
function killAllChildren(): number {
  let killed = 0;
  for (const child of live) if (signalGroup(child, 'SIGKILL')) killed++;
  live.clear();
  return killed;
}

/** The pid of every child spawned here so far, running or not (tests of this module). */
export function spawnedChildren(): number[] {
  return [...spawned];
}

/** The pids of the tracked children still running (tests of this module). */
export function liveChildren(): number[] {
  return [...live].filter((child) => child.exitCode === null && child.signalCode === null).map((child) => child.pid!);
}

let hooked = false;
function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killAllChildren());
  // vitest ends a file's worker with SIGTERM; a terminal sends SIGINT/SIGHUP. Kill the children, then let the
  // signal do what it would have done without this listener (a listener replaces the default "exit").
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllChildren();
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** `spawn`, in a process group of its own, tracked until it exits (see the module comment). */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  installExitHooks();
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child);
  if (child.pid !== undefined) spawned.push(child.pid);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** A port free right now on 127.0.0.1 (the kernel's pick: parallel runs do not collide). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The processes (zombies left out) of process group `pgid`, read from /proc (Linux). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && Number(pgrp) === pgid) members.push(Number(entry));
  }
  return members;
}
