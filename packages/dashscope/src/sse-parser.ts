/**
 * One server-sent event as DashScope frames it (docs/dashscope.md §3):
 *
 * ```
 * id:1
 * event:result
 * :HTTP_STATUS/200
 * data:{"output":…}
 *
 * ```
 */
export interface SseEvent {
  /** The `id:` value, or undefined when the event carried none. */
  id: string | undefined;
  /** The `event:` value; `message` when absent (SSE default; compatible mode sends none). */
  event: string;
  /** `data:` lines joined by `\n`. */
  data: string;
  /**
   * Status from the `:HTTP_STATUS/nnn` comment line. Informational only: the `event:` name is authoritative
   * (docs/dashscope.md §3 — the Python SDK never reads this line).
   */
  httpStatus: number | undefined;
}

const HTTP_STATUS_COMMENT = /^HTTP_STATUS\/(\d{3})\s*$/;

/**
 * Incremental SSE parser. Feed it raw bytes exactly as they come off the socket: chunk boundaries may fall
 * anywhere — inside a line, between the `\r` and `\n` of a CRLF, inside the blank-line separator, or inside a
 * multi-byte UTF-8 character (a streaming TextDecoder holds the partial character back).
 *
 * Beyond the WHATWG rules it also closes an event when an `id:` line arrives while the current event already has
 * data, because one 2024 capture shows DashScope events without blank lines between them (docs/dashscope.md §3).
 */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  #buffer = '';
  // A chunk ending in `\r` may be the first half of a CRLF; the `\n` that may start the next chunk is not a line.
  #skipLeadingLf = false;
  #id: string | undefined;
  #event: string | undefined;
  #data: string[] = [];
  #hasData = false;
  #httpStatus: number | undefined;

  /** Parses the next chunk of bytes (or already decoded text) and returns the events it completed. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    return this.#consume(text, false);
  }

  /**
   * Ends the stream: flushes the decoder, treats an unterminated last line as a line and dispatches a pending
   * event that has data. DashScope ends the stream right after the final event (no `[DONE]` in native mode), so a
   * server that omits the trailing blank line must not cost us the finish event.
   */
  end(): SseEvent[] {
    const events = this.#consume(this.#decoder.decode(), true);
    const last = this.#dispatch();
    if (last) events.push(last);
    return events;
  }

  #consume(text: string, final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.#skipLeadingLf && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.#skipLeadingLf = false;
    }
    this.#buffer += text;

    let start = 0;
    // Cached so a CR-free (LF-only) buffer is not rescanned for `\r` once per line.
    let cr = -2;
    let lf = -2;
    for (;;) {
      if (cr !== -1 && cr < start) cr = this.#buffer.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = this.#buffer.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < this.#buffer.length) {
          next = this.#buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.#skipLeadingLf = true;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      const event = this.#line(this.#buffer.slice(start, end));
      if (event) events.push(event);
      start = next;
    }
    this.#buffer = this.#buffer.slice(start);

    if (final && this.#buffer.length > 0) {
      const event = this.#line(this.#buffer);
      if (event) events.push(event);
      this.#buffer = '';
    }
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();

    if (line.startsWith(':')) {
      const status = HTTP_STATUS_COMMENT.exec(line.slice(1));
      if (status) this.#httpStatus = Number(status[1]);
      return undefined;
    }

    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    // Native mode writes `data:{…}`, compatible mode `data: {…}`; SSE strips exactly one leading space.
    if (value.startsWith(' ')) value = value.slice(1);

    let dispatched: SseEvent | undefined;
    switch (field) {
      case 'id':
        if (this.#hasData) dispatched = this.#dispatch();
        this.#id = value;
        break;
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        this.#hasData = true;
        break;
      default:
        // `retry:` and unknown fields carry nothing we use; ignoring them is what the SSE spec asks for.
        break;
    }
    return dispatched;
  }

  #dispatch(): SseEvent | undefined {
    const event: SseEvent | undefined = this.#hasData
      ? { id: this.#id, event: this.#event ?? 'message', data: this.#data.join('\n'), httpStatus: this.#httpStatus }
      : undefined;
    this.#id = undefined;
    this.#event = undefined;
    this.#data = [];
    this.#hasData = false;
    this.#httpStatus = undefined;
    return event;
  }
}

/** Parses a byte stream into events; used on `Response.body`. */
export async function* parseSseStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser();
  for await (const chunk of source) yield* parser.feed(chunk);
  yield* parser.end();
}

/** Parses a complete SSE body at once (error bodies, tests). */
export function parseSseText(text: string): SseEvent[] {
  const parser = new SseParser();
  return [...parser.feed(text), ...parser.end()];
}
