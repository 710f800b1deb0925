/**
 * Child processes for the subscription scenarios: every service runs from its own process entry (src/main.ts
 * under the tsx loader), as in production, so a test can SIGKILL one mid-stream or SIGTERM the gateway and watch it exit.
 * Logs are JSON lines (pino); they are kept for assertions (e.g. "subscription ended" with its reason).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { signalGroup, spawnChild } from './processes.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));


/** How long a started process may take to log that it is ready. */
const READY_TIMEOUT_MS = 240_000;
export interface LogLine {
  level?: string;
  msg?: string;
  [key: string]: unknown;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** GraphQL URL from the process's "… ready" log line. */
  url: string;
  /** Origin (scheme, host, port) of `url`. */
  origin: string;
  logs: LogLine[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM (clean stop), resolving with the exit; SIGKILL (to its process group) after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the process and anything it started (its process group); resolves when it is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `entry` (a path from the repository root) under tsx and waits for its "ready" log line. A process that is
 * not ready in time is killed (with anything it started) before the error is thrown; every process started here is
 * killed when the test process ends (processes.ts), so a test file whose start timed out leaves nothing running.
 */
export async function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { readyTimeoutMs?: number; /** Extra `node` flags, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */ nodeArgs?: string[] } = {},
): Promise<ManagedProcess> {
  // tsx as a loader in the one process, not its CLI: the CLI runs the script in a child of its own, so a signal
  // sent by a test (SIGKILL, SIGSTOP) would hit the wrapper and leave the real server running.
  const child = spawnChild(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const text of lines) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      logs.push(line);
      for (const watcher of watchers) watcher(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr.push(chunk);
    if (process.env.TEST_CHILD_STDERR) process.stderr.write(`[${name}] ${chunk}`);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const found = logs.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error(`${name}: no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      const watcher = (line: LogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        resolve(line);
      };
      watchers.add(watcher);
    });

  // Generous: a process that dies is reported at once (exited, below); only a slow start waits, and on a loaded
  // machine (2 cores, several suites) tsx compiling a subgraph took over 60 s (the chaos platform's user subgraph).
  let ready: LogLine;
  try {
    ready = await Promise.race([
      waitForLog((line) => typeof line.url === 'string' && typeof line.msg === 'string' && line.msg.endsWith('ready'), options.readyTimeoutMs ?? READY_TIMEOUT_MS),
      exited.then(({ code, signal }) => {
        throw new Error(`${name} exited before it was ready (${code ?? signal}):\n${stderr.join('').slice(-3000)}\n${JSON.stringify(logs.slice(-5))}`);
      }),
    ]);
  } catch (error) {
    signalGroup(child, 'SIGKILL');
    await exited;
    throw error;
  }
  const url = ready.url as string;
  return {
    name,
    child,
    url,
    origin: new URL(url).origin,
    logs,
    stderr,
    exited,
    waitForLog,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGKILL');
      await exited;
    },
  };
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function eventually<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Reads one Prometheus sample (`name{labels} value`) from a /metrics endpoint; labels match as a subset. */
export async function readMetric(origin: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([A-Za-z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!Object.entries(labels).every(([k, v]) => present[k] === v)) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}
