import { Counter, Histogram } from 'prom-client';
import { isDashScopeError, type ChatRequest, type TokenUsage } from '@firefly/dashscope';
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

  /** The same client, measured. Behaviour (laziness, early return aborting the request, errors) is unchanged. */
  function observe(client: ChatStreamClient): ChatStreamClient {
    return {
      async *streamChat(request, options) {
        // A generator's body runs at the first next(), which is when the client sends the request.
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1_000;
        let usage: TokenUsage | undefined;
        let outcome: Outcome | undefined;
        let failure: unknown;
        try {
          for await (const chunk of client.streamChat(request, options)) {
            if (!usage) firstToken.observe({ model: request.model }, seconds());
            usage = chunk.usage;
            yield chunk;
          }
          outcome = 'ok';
        } catch (error) {
          outcome = options?.signal?.aborted ? 'aborted' : 'error';
          failure = error;
          throw error;
        } finally {
          // No outcome: the consumer left the loop early (stop, timeout), which aborts the request.
          record(request, outcome ?? 'aborted', seconds(), usage, failure);
        }
      },
    };
  }

  return { metrics: [requests, errors, firstToken, duration, tokens], observe };
}
