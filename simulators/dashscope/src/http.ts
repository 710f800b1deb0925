import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** DashScope request ids look like UUIDs with a non-standard version nibble; any fresh UUID will do (§9.4). */
export function newRequestId(): string {
  return randomUUID();
}

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw new BodyTooLargeError(`body over ${limitBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Headers every DashScope answer carries in the captures (docs/dashscope.md §1). */
export function dashscopeHeaders(requestId: string, arrivedAt: number, finished: boolean): Record<string, string> {
  const now = Date.now();
  return {
    'x-request-id': requestId,
    'x-dashscope-call-gateway': 'true',
    'x-dashscope-timeout': '180',
    'x-dashscope-finished': String(finished),
    'req-arrive-time': String(arrivedAt),
    'resp-start-time': String(now),
    'req-cost-time': String(now - arrivedAt),
    server: 'istio-envoy',
  };
}

/** Starts a 200 `text/event-stream` answer with DashScope's headers and sends them at once (docs/dashscope.md §1). */
export function openEventStream(res: ServerResponse, requestId: string, arrivedAt: number): void {
  res.writeHead(200, {
    ...dashscopeHeaders(requestId, arrivedAt, false),
    'content-type': 'text/event-stream;charset=UTF-8',
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

/** One native SSE event, framed exactly as captured: no space after colons, status comment, blank line (§3). */
export function nativeSseEvent(id: number, event: 'result' | 'error', status: number, data: unknown): string {
  return `id:${id}\nevent:${event}\n:HTTP_STATUS/${status}\ndata:${JSON.stringify(data)}\n\n`;
}

/**
 * Writes `text`, optionally cut into `chunkBytes`-sized writes (cuts may fall inside UTF-8 characters on purpose,
 * so clients get exercised on split multi-byte sequences).
 */
export function writeChunked(res: ServerResponse, text: string, chunkBytes: number | undefined): void {
  if (!chunkBytes || chunkBytes <= 0) {
    res.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += chunkBytes) res.write(bytes.subarray(at, at + chunkBytes));
}

/** Resolves after `ms`; resolves early (returning false) when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when `signal` aborts (a stalled stream waits for the client to leave). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** `YYYY-MM-DD HH:mm:ss.SSS` in China time, as task timestamps are written (§5.2). */
export function chinaTimestamp(epochMs: number): string {
  return new Date(epochMs + 8 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Drops the connection the way a crashed upstream would, but only after what was already written has reached the
 * kernel: otherwise destroy() discards buffered events and "after N deltas" would become "after fewer".
 */
export async function dropConnection(res: ServerResponse): Promise<void> {
  if (res.headersSent) await new Promise<void>((resolve) => res.write('', () => resolve()));
  res.socket?.destroy();
}
