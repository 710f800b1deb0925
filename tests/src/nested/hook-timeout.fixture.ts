// Run by a nested vitest (tests/e2e/reliability/harness-cleanup.e2e.ts), never by `npm test`: a test file whose
// beforeAll times out while its stack is starting. The conversation subgraph's node never runs its main module (a
// preloaded module that never settles), so the stack cannot be ready; the hook's timeout ends the file with the user
// and conversation processes running. The pids of the processes the harness spawned go to NESTED_PIDS_FILE as soon
// as both are spawned, so the outer test can check that the file's end killed them.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, it } from 'vitest';
import { spawnedChildren } from '../processes.ts';
import { startStack } from '../subscription-stack.ts';

const NEVER_READY = `data:text/javascript,await new Promise(() => setInterval(() => {}, 1 << 30))`;

beforeAll(async () => {
  // Only the hook's timeout may end this start: no process gives up on its own first.
  const starting = startStack({ services: ['user', 'conversation'], serviceNodeArgs: { conversation: ['--import', NEVER_READY] }, readyTimeoutMs: 3_600_000 });
  starting.catch(() => undefined);
  while (spawnedChildren().length < 2) await sleep(20);
  writeFileSync(process.env.NESTED_PIDS_FILE!, JSON.stringify(spawnedChildren()));
  await starting;
}, Number(process.env.NESTED_HOOK_TIMEOUT_MS));

it('never runs: the beforeAll times out while the stack starts', () => undefined);
