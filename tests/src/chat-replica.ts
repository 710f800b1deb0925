// A second conversation-subgraph replica in a child process: the subgraph's own src/main.ts run by tsx, with this
// run's database, Redis prefix, internal secret, billing and DashScope simulator. Tests kill it with SIGKILL to
// prove that a generation whose process died is finished by another replica.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Supergraph } from './harness.ts';
import { freePort, signalGroup, spawnChild } from './processes.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ConversationReplica {
  url: string;
  pid: number;
  /** Output so far (for failure messages). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startConversationReplica(sg: Supergraph, env: Record<string, string> = {}): Promise<ConversationReplica> {
  const port = await freePort();
  const child: ChildProcess = spawnChild(process.execPath, ['--import', 'tsx', 'subgraphs/conversation/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      DATABASE_URL: process.env.DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX,
      INTERNAL_TOKEN_SECRET: sg.internalTokenSecret,
      HOST: '127.0.0.1',
      CONVERSATION_SUBGRAPH_PORT: String(port),
      BILLING_SUBGRAPH_URL: sg.subgraphUrls.billing,
      DASHSCOPE_BASE_URL: sg.simulator.baseUrl,
      DASHSCOPE_API_KEY: sg.simulator.apiKey,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/graphql`;

  // tsx compiles the subgraph on start: on a loaded machine that alone can take most of a minute.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the conversation replica exited (${child.exitCode}):\n${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      signalGroup(child, 'SIGKILL');
      throw new Error(`the conversation replica did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    pid: child.pid!,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
