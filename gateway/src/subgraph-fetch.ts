import type { FetcherHeaders } from '@apollo/utils.fetcher';
import { type Agent, request as httpRequest } from 'undici';

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

/** One POST to a subgraph. */
interface SubgraphFetch {
  url: string;
  /** Lower-case names, sent as they are. */
  headers: Record<string, string>;
  body: string;
  /** Milliseconds left for all of it: connecting, waiting, reading the whole answer. */
  budgetMs: number;
  /** Which limit `budgetMs` is, for the timeout error. */
  bound: 'request' | 'subgraph';
  /** A larger answer is abandoned as soon as it is known to be larger (Content-Length, or while reading). */
  maxResponseBytes: number;
}

/** A subgraph's answer, read whole. */
export interface SubgraphAnswer {
  status: number;
  /** undici's header record: lower-case names, a repeated header as an array. */
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Sends one request to a subgraph over undici's request API (a keep-alive pool per subgraph, no WHATWG Request,
 * Headers or stream objects) and reads the answer whole. The deadline covers the whole fetch — connecting, waiting,
 * reading the body — not only idle gaps, and an answer is read only up to `maxResponseBytes`.
 */
export async function fetchSubgraph(agent: Agent, fetch: SubgraphFetch): Promise<SubgraphAnswer> {
  const { budgetMs, bound, maxResponseBytes } = fetch;
  if (!(budgetMs > 0)) throw new SubgraphFetchError('timeout', 'no time left for the fetch', bound);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetMs);
  try {
    const response = await httpRequest(fetch.url, {
      method: 'POST',
      headers: fetch.headers,
      body: fetch.body,
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
    if (declared >= 0) return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
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
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
    return { status: response.statusCode, headers: response.headers, text };
  } catch (error) {
    if (controller.signal.aborted) throw new SubgraphFetchError('timeout', `no complete answer within ${Math.round(budgetMs)} ms`, bound);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A subgraph answer's headers as the fetch API's Headers reads them (case-insensitive names, repeated values joined
 * with `, `), over undici's header record as it is: copying every header into a WHATWG `Headers` (validated one by
 * one) cost ~5 µs per subgraph fetch. Hand-written because it is that small; it is the `http.headers` of a subgraph
 * response for anything after the data source. Read-only in practice, but writable as the interface demands.
 */
export class AnswerHeaders implements FetcherHeaders {
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
