/**
 * Resolves once `http://127.0.0.1:<port>/healthz` answers 200 (every bench process serves it: gateways and
 * subgraphs through server-kit's shell, the stock and Hive gateways through their bench wrappers). `timeoutMs`
 * (default 2 min) is generous: on a loaded machine a process started with `--import tsx` takes tens of seconds, one
 * under Valgrind (`--ab` with AB_INSTRUCTIONS=1) several minutes.
 */
export async function waitHealthy(port: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing healthy on port ${port} after ${timeoutMs / 1000} s`);
}
