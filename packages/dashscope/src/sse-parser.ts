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

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const HTTP_STATUS_PREFIX = Buffer.from(':HTTP_STATUS/', 'latin1');
const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Incremental SSE parser. Feed it raw bytes exactly as they come off the socket: chunk boundaries may fall
 * anywhere — inside a line, between the `\r` and `\n` of a CRLF, inside the blank-line separator, or inside a
 * multi-byte UTF-8 character.
 *
 * It works on the bytes: line breaks are found with `Buffer.indexOf` and only the values we keep (data, id, event)
 * are decoded, each as a whole line, so a character split across chunks is never decoded in halves (a line break
 * byte never occurs inside a UTF-8 sequence). Only the unfinished tail of a chunk is kept (and copied once, when the
 * next chunk arrives). No text is decoded for field names, comments or the status line (docs/dashscope.md §3 sends
 * four lines per token, of which one is kept).
 *
 * Beyond the WHATWG rules it also closes an event when an `id:` line arrives while the current event already has
 * data, because one 2024 capture shows DashScope events without blank lines between them (docs/dashscope.md §3).
 */
export class SseParser {
  /** Bytes of a line not yet ended (the tail of the previous chunk), or undefined. */
  #pending: Buffer | undefined;
  // A chunk ending in `\r` may be the first half of a CRLF; the `\n` that may start the next chunk is not a line.
  #skipLeadingLf = false;
  /** Bytes of the stream start still compared against a UTF-8 BOM (stripped, as TextDecoder and the SSE spec do). */
  #bomChecked = 0;
  #id: string | undefined;
  #event: string | undefined;
  #data: string | undefined;
  #httpStatus: number | undefined;

  /** Parses the next chunk of bytes (or already decoded text) and returns the events it completed. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const events: SseEvent[] = [];
    this.#consume(bytes, events);
    return events;
  }

  /**
   * Ends the stream: treats an unterminated last line as a line and dispatches a pending event that has data.
   * DashScope ends the stream right after the final event (no `[DONE]` in native mode), so a server that omits the
   * trailing blank line must not cost us the finish event.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined && pending.length > 0) this.#line(pending, 0, pending.length, events);
    this.#dispatch(events);
    return events;
  }

  #consume(chunk: Buffer, events: SseEvent[]): void {
    let start = 0;
    while (this.#bomChecked < 3 && start < chunk.length) {
      if (chunk[start] !== BOM[this.#bomChecked]) {
        // Not a BOM after all: the bytes already passed over were its first bytes; give them back.
        if (this.#bomChecked > 0) chunk = Buffer.concat([Buffer.from(BOM.slice(0, this.#bomChecked)), chunk.subarray(start)]);
        start = 0;
        this.#bomChecked = 3;
        break;
      }
      this.#bomChecked += 1;
      start += 1;
    }
    if (start >= chunk.length) return;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (chunk[start] === LF) start += 1;
    }
    let buffer = chunk;
    if (this.#pending !== undefined) {
      buffer = Buffer.concat([this.#pending, start === 0 ? chunk : chunk.subarray(start)]);
      this.#pending = undefined;
      start = 0;
    }
    const length = buffer.length;
    // Cached so a CR-free (LF-only) buffer is not rescanned for `\r` once per line.
    let cr = -2;
    let lf = -2;
    while (start < length) {
      if (cr !== -1 && cr < start) cr = buffer.indexOf(CR, start);
      if (lf !== -1 && lf < start) lf = buffer.indexOf(LF, start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < length) {
          next = buffer[cr + 1] === LF ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.#skipLeadingLf = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.#line(buffer, start, end, events);
      start = next;
    }
    // Copied: the caller's chunk may be a view into a buffer that is reused.
    if (start < length) this.#pending = Buffer.from(buffer.subarray(start));
  }

  #line(buffer: Buffer, start: number, end: number, events: SseEvent[]): void {
    if (start === end) {
      this.#dispatch(events);
      return;
    }
    const first = buffer[start];
    if (first === COLON) {
      this.#comment(buffer, start, end);
      return;
    }
    let colon = start;
    while (colon < end && buffer[colon] !== COLON) colon++;
    let value = colon < end ? colon + 1 : end;
    // Native mode writes `data:{…}`, compatible mode `data: {…}`; SSE strips exactly one leading space.
    if (value < end && buffer[value] === SPACE) value++;
    const nameLength = colon - start;
    // Field names are compared by length and bytes: `data`, `id`, `event`; `retry:` and unknown fields carry
    // nothing we use, and ignoring them is what the SSE spec asks for.
    if (nameLength === 4 && first === 0x64 && buffer[start + 1] === 0x61 && buffer[start + 2] === 0x74 && buffer[start + 3] === 0x61) {
      const text = buffer.toString('utf8', value, end);
      this.#data = this.#data === undefined ? text : `${this.#data}\n${text}`;
    } else if (nameLength === 2 && first === 0x69 && buffer[start + 1] === 0x64) {
      if (this.#data !== undefined) this.#dispatch(events);
      this.#id = buffer.toString('utf8', value, end);
    } else if (nameLength === 5 && first === 0x65 && buffer[start + 1] === 0x76 && buffer[start + 2] === 0x65 && buffer[start + 3] === 0x6e && buffer[start + 4] === 0x74) {
      this.#event = buffer.toString('utf8', value, end);
    }
  }

  /** `:HTTP_STATUS/nnn` (optionally followed by whitespace) sets the status; any other comment is ignored. */
  #comment(buffer: Buffer, start: number, end: number): void {
    const prefix = HTTP_STATUS_PREFIX.length;
    if (end - start < prefix + 3) return;
    for (let i = 1; i < prefix; i++) if (buffer[start + i] !== HTTP_STATUS_PREFIX[i]) return;
    let status = 0;
    for (let i = start + prefix; i < start + prefix + 3; i++) {
      const digit = buffer[i]! - 0x30;
      if (digit < 0 || digit > 9) return;
      status = status * 10 + digit;
    }
    for (let i = start + prefix + 3; i < end; i++) if (!isWhitespace(buffer[i]!)) return;
    this.#httpStatus = status;
  }

  #dispatch(events: SseEvent[]): void {
    if (this.#data !== undefined) events.push({ id: this.#id, event: this.#event ?? 'message', data: this.#data, httpStatus: this.#httpStatus });
    this.#id = undefined;
    this.#event = undefined;
    this.#data = undefined;
    this.#httpStatus = undefined;
  }
}

/** ASCII whitespace other than line breaks (a line holds none). */
function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === 0x09 || byte === 0x0b || byte === 0x0c;
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
