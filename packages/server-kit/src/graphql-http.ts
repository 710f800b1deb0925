import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext as ApolloContext } from '@apollo/server';

/** Largest request body read (as express.json's `limit: '1mb'` before). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The POST requests the fast path takes: `/graphql` (with or without a query string), a JSON body (no other charset
 * than UTF-8, not compressed). Anything else — GET, other content types, a compressed body — goes through Express as
 * before (`express.json` + Apollo's Express integration), so those keep their old answers.
 */
export function takesFastPath(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (!(url === '/graphql' || url.startsWith('/graphql?'))) return false;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'];
  return type !== undefined && JSON_TYPE.test(type);
}

const JSON_TYPE = /^\s*application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Sends a JSON answer (the credential refusal, a body error) the way Express's `res.json` did. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(body);
}

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** The request's JSON body, at most MAX_BODY_BYTES (413 beyond), an object or array (400 otherwise, as express.json's strict mode). */
export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) {
    // Not read at all: the answer goes out and the connection closes (Node does not keep reading a large body).
    return Promise.reject(new BodyError(413, 'The request body is larger than 1 MB'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyError(413, 'The request body is larger than 1 MB'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      // An empty body is `{}`, as express.json made it (Apollo then answers that the query is missing).
      if (text.trim() === '') return resolve({});
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return reject(new BodyError(400, 'The request body is not valid JSON'));
      }
      if (typeof parsed !== 'object' || parsed === null) return reject(new BodyError(400, 'The request body must be a JSON object'));
      resolve(parsed);
    });
  });
}

/**
 * One GraphQL POST through Apollo Server straight from Node's request, without Express: what
 * `@as-integrations/express5` does (headers into a HeaderMap, the query string, the parsed body; Apollo's answer's
 * headers, status and body back), minus Express's router, `express.json`, `url.parse` and `res.send`'s ETag (a SHA-1
 * of every answer, useless on POST). Apollo's own request handling — CSRF prevention, parsing, validation, errors,
 * the cache-control header, plugins — is unchanged.
 */
export async function executeGraphQLPost<TContext extends ApolloContext>(
  apollo: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  context: () => Promise<TContext>,
): Promise<void> {
  const headers = new HeaderMap();
  for (const key in req.headers) {
    const value = req.headers[key];
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const answer = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'POST', headers, search: query < 0 ? '' : url.slice(query), body },
    context,
  });
  for (const [key, value] of answer.headers) res.setHeader(key, value);
  res.statusCode = answer.status ?? 200;
  if (answer.body.kind === 'complete') {
    // Node sets content-length itself for a body sent whole by end().
    res.end(answer.body.string);
    return;
  }
  for await (const chunk of answer.body.asyncIterator) res.write(chunk);
  res.end();
}
