import type { Fetcher, FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import { type Agent, type Dispatcher, request as httpRequest } from 'undici';

/**
 * Internal header by which the data source hands a fetch its deadline (`performance.now()` milliseconds, then
 * `;request` or `;subgraph` for which limit it is). The fetcher removes it: it never reaches the subgraph.
 */
export const DEADLINE_HEADER = 'x-firefly-deadline';

/** Why a subgraph fetch failed before a usable answer arrived; `CredentialedDataSource` maps it to UPSTREAM_UNAVAILABLE. */
export class SubgraphFetchError extends Error {
  constructor(
    readonly reason: 'timeout' | 'response_too_large',
    message: string,
    /** For `timeout`: the whole operation's deadline (`request`) or this fetch's own limit (`subgraph`). */
    readonly bound?: 'request' | 'subgraph',
  ) {
    super(message);
    this.name = 'SubgraphFetchError';
  }
}

export interface SubgraphFetcherOptions {
  /** Used when the request names no deadline (health checks). */
  timeoutMs: number;
  /** A larger answer is abandoned as soon as it is known to be larger (Content-Length, or while reading). */
  maxResponseBytes: number;
}

/**
 * The slice of the fetch API that RemoteGraphQLDataSource uses, over undici's lower-level (and cheaper) request.
 * Each fetch has a deadline covering all of it — connecting, waiting, reading the body — not only idle gaps, and
 * an answer is read only up to `maxResponseBytes`.
 */
export function createSubgraphFetcher(agent: Agent, options: SubgraphFetcherOptions): Fetcher {
  const { maxResponseBytes } = options;
  return async (url, init) => {
    const headers = init?.headers as Record<string, string> | undefined;
    let budgetMs = options.timeoutMs;
    let bound: 'request' | 'subgraph' = 'subgraph';
    const deadline = headers?.[DEADLINE_HEADER];
    if (deadline !== undefined) {
      delete headers![DEADLINE_HEADER];
      const separator = deadline.indexOf(';');
      budgetMs = Number(deadline.slice(0, separator)) - performance.now();
      bound = deadline.slice(separator + 1) === 'request' ? 'request' : 'subgraph';
    }
    if (!(budgetMs > 0)) throw new SubgraphFetchError('timeout', 'no time left for the fetch', bound);

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), budgetMs);
    try {
      const response = await httpRequest(url, {
        method: (init?.method ?? 'POST') as 'POST',
        headers,
        body: init?.body as string | undefined,
        dispatcher: agent,
        signal: controller.signal,
      });
      const declared = Number(response.headers['content-length']);
      if (declared > maxResponseBytes) {
        response.body.destroy();
        throw new SubgraphFetchError('response_too_large', `the answer declares ${declared} bytes, over the ${maxResponseBytes} cap`);
      }
      // Apollo Server declares the length of every single answer: undici reads a body of known size cheapest (and
      // stops at the declared length). Without one, the cap is counted while reading.
      if (declared >= 0) return toFetcherResponse(url, response, await response.body.text());
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxResponseBytes) {
          response.body.destroy();
          throw new SubgraphFetchError('response_too_large', `the answer exceeds the ${maxResponseBytes} byte cap`);
        }
        chunks.push(chunk);
      }
      return toFetcherResponse(url, response, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    } catch (error) {
      if (controller.signal.aborted) throw new SubgraphFetchError('timeout', `no complete answer within ${Math.round(budgetMs)} ms`, bound);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The slice of a fetch Response that RemoteGraphQLDataSource reads, over an answer already read whole. */
function toFetcherResponse(url: string, response: Dispatcher.ResponseData, text: string): FetcherResponse {
  const result: FetcherResponse = {
    ok: response.statusCode >= 200 && response.statusCode < 300,
    status: response.statusCode,
    statusText: '',
    url,
    headers: new AnswerHeaders(response.headers),
    bodyUsed: true,
    redirected: false,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
    clone: () => result,
  } as FetcherResponse;
  return result;
}

/**
 * The answer's headers as the fetch API's Headers reads them (case-insensitive names, repeated values joined with
 * `, `), over undici's header record (lower-case names) as it is: copying every header into a WHATWG `Headers`
 * (validated one by one) cost ~5 µs per subgraph fetch, for the two that RemoteGraphQLDataSource reads
 * (`content-type`, `cache-control`). Hand-written because it is that small; read-only in practice, but writable as
 * the interface demands.
 */
class AnswerHeaders implements FetcherHeaders {
  readonly #record: Record<string, string | string[] | undefined>;
  constructor(record: Record<string, string | string[] | undefined>) {
    this.#record = record;
  }
  get(name: string): string | null {
    const value = this.#record[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.#record[name.toLowerCase()] !== undefined;
  }
  set(name: string, value: string): void {
    this.#record[name.toLowerCase()] = value;
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.#record[key];
    this.#record[key] = current === undefined ? value : [...(Array.isArray(current) ? current : [current]), value];
  }
  delete(name: string): void {
    delete this.#record[name.toLowerCase()];
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#record).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
