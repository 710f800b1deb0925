/**
 * Delay before retry number `retry` (0-based): full jitter over an exponentially growing window, so that many
 * replicas throttled at the same moment do not come back in lockstep. DashScope promises no Retry-After
 * (docs/dashscope.md §6); if one was sent we wait at least that long (the client does not retry at all when it exceeds
 * `maxMs`).
 */
export function backoffDelayMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const window = Math.min(maxMs, baseMs * 2 ** retry);
  const jittered = Math.round(window * random());
  return retryAfterSeconds === undefined ? jittered : Math.max(jittered, retryAfterSeconds * 1000);
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
