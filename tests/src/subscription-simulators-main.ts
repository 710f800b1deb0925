/**
 * Two DashScope simulators in a process of their own (for tests/bench/streams.ts, so that generating 500 streams'
 * SSE does not compete with the benchmark's clients for its event loop): `a` answers with at least SIM_DELTAS_A
 * deltas SIM_TOKEN_DELAY_MS apart, `b` with at least SIM_DELTAS_B deltas SIM_TOKEN_DELAY_MS_B apart. Logs one JSON line
 * `{ msg: "simulators ready", url, a, b, apiKey }`.
 */
import { startDashScopeSimulator } from '@firefly/dashscope-simulator';

const tokenDelayMs = Number(process.env.SIM_TOKEN_DELAY_MS ?? 30);
const a = await startDashScopeSimulator({ tokenDelayMs, minDeltas: Number(process.env.SIM_DELTAS_A ?? 40) });
const b = await startDashScopeSimulator({ tokenDelayMs: Number(process.env.SIM_TOKEN_DELAY_MS_B ?? tokenDelayMs), minDeltas: Number(process.env.SIM_DELTAS_B ?? 400) });
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'simulators ready', url: a.url, a: a.url, b: b.url, apiKey: a.apiKey })}\n`);
const stop = () => {
  void Promise.all([a.close(), b.close()]).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
