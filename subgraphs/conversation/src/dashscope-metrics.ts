import { Counter, Histogram } from 'prom-client';
import { isDashScopeError, type ChatChunk, type ChatRequest, type TokenUsage } from '@firefly/dashscope';
import type { ChatStreamClient } from './generation/generation-runner.ts';

type Outcome = 'ok' | 'error' | 'aborted';

/**
 * DashScope chat as Prometheus sees it (docs/operations.md, "Monitoring"): calls by model and outcome, failures by
 * kind, time to the first token and to the end, and the tokens DashScope bills. Created unregistered; the server
 * registers `metrics` with its registry.
 */
export function createDashScopeMetrics() {
  const requests = new Counter({
    name: 'dashscope_chat_requests_total',
    help: 'DashScope chat calls by model and outcome (ok, error, aborted: stopped by the user, a timeout or shutdown)',
    labelNames: ['model', 'outcome'] as const,
    registers: [],
  });
  const errors = new Counter({
    name: 'dashscope_chat_errors_total',
    help: 'Failed DashScope chat calls by model and kind (throttled, server, timeout, network, content, auth, …), after the client\'s retries',
    labelNames: ['model', 'kind'] as const,
    registers: [],
  });
  const firstToken = new Histogram({
    name: 'dashscope_chat_first_token_seconds',
    help: 'From sending a chat request to DashScope\'s first chunk, by model',
    labelNames: ['model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30],
    registers: [],
  });
  const duration = new Histogram({
    name: 'dashscope_chat_duration_seconds',
    help: 'From sending a chat request to its last chunk (or failure), by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [],
  });
  const tokens = new Counter({
    name: 'dashscope_tokens_total',
    help: 'Tokens DashScope reported for chat calls (what it bills), by model and type (input, output)',
    labelNames: ['model', 'type'] as const,
    registers: [],
  });

  function record(request: ChatRequest, outcome: Outcome, seconds: number, usage: TokenUsage | undefined, error?: unknown) {
    const model = request.model;
    requests.inc({ model, outcome });
    duration.observe({ model, outcome }, seconds);
    if (outcome === 'error') errors.inc({ model, kind: isDashScopeError(error) ? error.kind : 'unknown' });
    if (usage) {
      tokens.inc({ model, type: 'input' }, usage.inputTokens);
      tokens.inc({ model, type: 'output' }, usage.outputTokens);
    }
  }

  /**
   * The same client, measured. Behaviour (laziness, early return aborting the request, errors) is unchanged. A
   * hand-written iterator rather than an `async function*` around the client's: no generator layer of its own
   * between the client and the runner for every token.
   */
  function observe(client: ChatStreamClient): ChatStreamClient {
    return {
      streamChat(request, options) {
        const inner = client.streamChat(request, options);
        let started: number | undefined;
        const seconds = () => (performance.now() - (started ?? performance.now())) / 1_000;
        let usage: TokenUsage | undefined;
        let recorded = false;
        const end = (outcome: Outcome, failure?: unknown) => {
          if (recorded) return;
          recorded = true;
          record(request, outcome, seconds(), usage, failure);
        };
        const iterator: AsyncIterableIterator<ChatChunk> = {
          async next() {
            // The client sends the request at the first next().
            started ??= performance.now();
            let result: IteratorResult<ChatChunk>;
            try {
              result = await inner.next();
            } catch (error) {
              end(options?.signal?.aborted ? 'aborted' : 'error', error);
              throw error;
            }
            if (result.done) end('ok');
            else {
              if (!usage) firstToken.observe({ model: request.model }, seconds());
              usage = result.value.usage;
            }
            return result;
          },
          // The consumer left early (stop, timeout), which aborts the request.
          async return() {
            end('aborted');
            return (await inner.return?.()) ?? { done: true, value: undefined };
          },
          [Symbol.asyncIterator]() {
            return iterator;
          },
        };
        return iterator;
      },
    };
  }

  return { metrics: [requests, errors, firstToken, duration, tokens], observe };
}
