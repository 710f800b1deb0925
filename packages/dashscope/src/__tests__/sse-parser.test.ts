import { describe, expect, it } from 'vitest';
import { SseParser, parseSseStream, parseSseText, type SseEvent } from '../sse-parser.ts';

// Samples copied from docs/dashscope.md §3, §3.1 and §4 (the framing, byte for byte).
const NATIVE_STREAM = [
  'id:1',
  'event:result',
  ':HTTP_STATUS/200',
  'data:{"output":{"choices":[{"message":{"content":"1","role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":9,"input_tokens":8,"output_tokens":1},"request_id":"d272255f-82d7-9cc7-93c5-17ff77024349"}',
  '',
  'id:2',
  'event:result',
  ':HTTP_STATUS/200',
  'data:{"output":{"choices":[{"message":{"content":"+1 equals 2.","role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":14,"input_tokens":8,"output_tokens":6},"request_id":"d272255f-82d7-9cc7-93c5-17ff77024349"}',
  '',
  'id:3',
  'event:result',
  ':HTTP_STATUS/200',
  'data:{"output":{"choices":[{"message":{"content":"","role":"assistant"},"finish_reason":"stop"}]},"usage":{"total_tokens":14,"input_tokens":8,"output_tokens":6},"request_id":"d272255f-82d7-9cc7-93c5-17ff77024349"}',
  '',
  '',
].join('\n');

const ERROR_STREAM = [
  'id:1',
  'event:error',
  ':HTTP_STATUS/400',
  'data:{"code":"InvalidParameter","message":"Role must be user or assistant and Content length must be greater than 0","request_id":"7671ecd8-93cc-9ee9-bc89-739f0fd8b809"}',
  '',
  '',
].join('\n');

// The same native framing carrying Chinese text and a 4-byte emoji, so that splits land inside UTF-8 sequences.
const CHINESE_STREAM = NATIVE_STREAM.replace('"content":"1"', '"content":"一加一"').replace(
  '"content":"+1 equals 2."',
  '"content":"等于二。🔥"',
);

// The 2024-02 capture without blank lines between events (§3): a new `id:` must close the previous event.
const NO_BLANK_LINES = NATIVE_STREAM.split('\n')
  .filter((line) => line !== '')
  .join('\n');

const COMPAT_STREAM = [
  'data: {"choices":[{"delta":{"content":"","role":"assistant"},"index":0,"logprobs":null,"finish_reason":null}],"object":"chat.completion.chunk","usage":null,"created":1726132850,"system_fingerprint":null,"model":"qwen-plus","id":"chatcmpl-428b414f-fdd4-94c6-b179-8f576ad653a8"}',
  '',
  'data: {"choices":[{"finish_reason":null,"delta":{"content":"I am"},"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1726132850,"system_fingerprint":null,"model":"qwen-plus","id":"chatcmpl-428b414f-fdd4-94c6-b179-8f576ad653a8"}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

const crlf = (text: string): string => text.replace(/\n/g, '\r\n');
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function parseChunks(chunks: Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...parser.feed(chunk));
  events.push(...parser.end());
  return events;
}

// Deterministic PRNG so a failing random split is reproducible.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SseParser on the documented native stream', () => {
  it('reads id, event, HTTP_STATUS comment and data of every event', () => {
    const events = parseSseText(NATIVE_STREAM);
    expect(events.map((e) => [e.id, e.event, e.httpStatus])).toEqual([
      ['1', 'result', 200],
      ['2', 'result', 200],
      ['3', 'result', 200],
    ]);
    const contents = events.map((e) => (JSON.parse(e.data) as { output: { choices: { message: { content: string } }[] } }).output.choices[0]?.message.content);
    expect(contents).toEqual(['1', '+1 equals 2.', '']);
  });

  it('reads an error event with its status line', () => {
    expect(parseSseText(ERROR_STREAM)).toEqual([
      {
        id: '1',
        event: 'error',
        httpStatus: 400,
        data: '{"code":"InvalidParameter","message":"Role must be user or assistant and Content length must be greater than 0","request_id":"7671ecd8-93cc-9ee9-bc89-739f0fd8b809"}',
      },
    ]);
  });

  it('treats a new id: line as an event boundary when blank lines are missing', () => {
    expect(parseSseText(NO_BLANK_LINES)).toEqual(parseSseText(NATIVE_STREAM));
  });

  it('strips the one space of compatible-mode `data: ` and defaults the event name', () => {
    const events = parseSseText(COMPAT_STREAM);
    expect(events).toHaveLength(3);
    expect(events[0]?.event).toBe('message');
    expect(events[0]?.data.startsWith('{"choices"')).toBe(true);
    expect(events[2]?.data).toBe('[DONE]');
  });

  it('dispatches a final event whose trailing blank line never came', () => {
    const truncated = NATIVE_STREAM.trimEnd();
    expect(parseSseText(truncated)).toEqual(parseSseText(NATIVE_STREAM));
  });

  it('ignores comments, unknown fields and empty events', () => {
    const text = ':keep-alive\nretry:1000\nfoo:bar\n\n\n\nid:9\nevent:result\ndata:{}\n\n';
    expect(parseSseText(text)).toEqual([{ id: '9', event: 'result', data: '{}', httpStatus: undefined }]);
  });

  it('joins multi-line data with \\n', () => {
    expect(parseSseText('data:a\ndata:b\n\n')[0]?.data).toBe('a\nb');
  });

  it('strips a UTF-8 byte order mark at the start of the stream, even split across chunks, and only there', () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    const body = encode('data:x\n\n');
    const withBom = new Uint8Array([...bom, ...body]);
    for (let at = 0; at <= 4; at++) {
      expect(parseChunks([withBom.subarray(0, at), withBom.subarray(at)])).toEqual([{ id: undefined, event: 'message', data: 'x', httpStatus: undefined }]);
    }
    // Bytes that begin like a BOM but are not one are kept (here they end up in an unknown field name).
    expect(parseChunks([Uint8Array.of(0xef, 0xbb), encode(':\ndata:y\n\n')])).toEqual([{ id: undefined, event: 'message', data: 'y', httpStatus: undefined }]);
    // Later in the stream the same bytes are part of the line: `\ufeffdata` is an unknown field.
    expect(parseChunks([encode('data:a\n\n'), new Uint8Array([...bom, ...encode('data:b\n\n')])]).map((e) => e.data)).toEqual(['a']);
  });

  it('matches field names exactly (no prefixes, no look-alikes)', () => {
    const text = 'datum:1\ndat:2\nevents:3\nide:4\nDATA:5\nevent:result\nid:7\ndata:ok\n\n';
    expect(parseSseText(text)).toEqual([{ id: '7', event: 'result', data: 'ok', httpStatus: undefined }]);
  });

  it('reads the status comment only in its exact form', () => {
    const statuses = [':HTTP_STATUS/200 \t', ':HTTP_STATUS/20', ':HTTP_STATUS/2000', ':HTTP_STATUS/2x0', ': HTTP_STATUS/200', ':HTTP_STATUS/503'].map(
      (line) => parseSseText(`${line}\ndata:x\n\n`)[0]?.httpStatus,
    );
    expect(statuses).toEqual([200, undefined, undefined, undefined, undefined, 503]);
  });

  it('does not carry the status line of one event into the next', () => {
    const events = parseSseText('id:1\n:HTTP_STATUS/429\ndata:x\n\nid:2\ndata:y\n\n');
    expect(events.map((e) => e.httpStatus)).toEqual([429, undefined]);
  });
});

describe('SseParser under arbitrary chunking', () => {
  const samples = {
    native: NATIVE_STREAM,
    'native CRLF': crlf(NATIVE_STREAM),
    'native CR only': NATIVE_STREAM.replace(/\n/g, '\r'),
    chinese: CHINESE_STREAM,
    'chinese CRLF': crlf(CHINESE_STREAM),
    error: ERROR_STREAM,
    'error CRLF': crlf(ERROR_STREAM),
    'no blank lines CRLF': crlf(NO_BLANK_LINES),
    compat: COMPAT_STREAM,
  };

  for (const [name, text] of Object.entries(samples)) {
    const bytes = encode(text);
    const expected = parseSseText(text);

    it(`${name}: same events when split at every byte position`, () => {
      expect(expected.length).toBeGreaterThan(0);
      for (let i = 0; i <= bytes.length; i++) {
        const events = parseChunks([bytes.subarray(0, i), bytes.subarray(i)]);
        if (JSON.stringify(events) !== JSON.stringify(expected)) {
          // Name the split so a failure is debuggable, then let expect print the diff.
          expect({ splitAt: i, events }).toEqual({ splitAt: i, events: expected });
        }
      }
    });

    it(`${name}: same events fed one byte at a time and in random pieces`, () => {
      expect(parseChunks(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))).toEqual(expected);
      const random = mulberry32(bytes.length);
      for (let round = 0; round < 200; round++) {
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < bytes.length; ) {
          const size = 1 + Math.floor(random() * 12);
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        expect(parseChunks(chunks)).toEqual(expected);
      }
    });
  }

  it('keeps multi-byte characters intact when split inside them', () => {
    const bytes = encode('data:等🔥\n\n');
    // '等' is 3 bytes starting at 5, '🔥' 4 bytes starting at 8: split inside each of them.
    for (const at of [6, 7, 9, 10, 11]) {
      expect(parseChunks([bytes.subarray(0, at), bytes.subarray(at)])[0]?.data).toBe('等🔥');
    }
  });

  it('does not read CR | LF across chunks as two line breaks', () => {
    const events = parseChunks([encode('id:1\r'), encode('\nevent:result\r'), encode('\ndata:x\r'), encode('\n\r'), encode('\n')]);
    expect(events).toEqual([{ id: '1', event: 'result', data: 'x', httpStatus: undefined }]);
  });

  it('parses a web ReadableStream through parseSseStream', async () => {
    const bytes = encode(crlf(CHINESE_STREAM));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
        controller.close();
      },
    });
    const events: SseEvent[] = [];
    for await (const event of parseSseStream(stream)) events.push(event);
    expect(events).toEqual(parseSseText(CHINESE_STREAM));
  });
});
