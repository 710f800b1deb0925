// A process for the harness's own tests (tests/e2e/reliability/harness-cleanup.e2e.ts): it starts children the way
// the harness does, then idles or exits, so a test can end it and look for anything it left running.
// FIXTURE_MODE: `children` — two children through processes.ts, each with a grandchild of its own, then idle;
// `children-then-exit` — the same, then exit(0) once every grandchild runs; `never-ready` — one grandchild, and
// never the "ready" line startProcess waits for. The pids go to FIXTURE_PIDS_FILE as JSON.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { groupMembers, spawnChild } from './processes.ts';

const IDLE = 'setInterval(() => {}, 1 << 30)';
const WITH_GRANDCHILD = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(IDLE)}], { stdio: 'ignore' }); ${IDLE}`;
const mode = process.env.FIXTURE_MODE;
const pidsFile = process.env.FIXTURE_PIDS_FILE!;

if (mode === 'never-ready') {
  const grandchild = spawn(process.execPath, ['-e', IDLE], { stdio: 'ignore' });
  writeFileSync(pidsFile, JSON.stringify({ self: process.pid, groups: [process.pid], grandchild: grandchild.pid }));
  console.log(JSON.stringify({ msg: 'starting, never ready' }));
} else {
  const groups = [0, 1].map(() => spawnChild(process.execPath, ['-e', WITH_GRANDCHILD], { stdio: 'ignore' }).pid!);
  // Every child runs its grandchild (two members per group) before the pids are told.
  while (!groups.every((pgid) => groupMembers(pgid).length === 2)) await new Promise((resolve) => setTimeout(resolve, 20));
  writeFileSync(pidsFile, JSON.stringify({ self: process.pid, groups }));
  if (mode === 'children-then-exit') process.exit(0);
}
setInterval(() => undefined, 1 << 30);
