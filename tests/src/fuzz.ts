/**
 * Generators of the fuzz suite (tests/e2e/fuzz): GraphQL requests built from the supergraph (random selections,
 * arguments of the right and the wrong type, aliases, fragments, deep nesting), broken documents and variables with
 * huge and odd Unicode strings, and graphql-transport-ws frames — valid, out of order, malformed, binary, huge.
 * fast-check draws the values (and so reproduces a run from its seed); the walk over the schema uses a PRNG seeded
 * by fast-check too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isInterfaceType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

export interface FuzzRequest {
  query: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export function loadSupergraphSchema(): GraphQLSchema {
  const sdl = readFileSync(fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url)), 'utf8');
  return buildSchema(sdl, { assumeValidSDL: true });
}

/** Strings a careless parser or a careless database column would not expect. */
const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.constantFrom(
    '',
    '\u0000',
    '\uD800',
    '\uDFFF\uD800',
    '\u202Eevil',
    '𝕏'.repeat(5_000),
    '萤火虫'.repeat(3_000),
    'a'.repeat(300_000),
    "'; DROP TABLE Message; --",
    '{"$gt": ""}',
    '__proto__',
    'constructor',
    '%s%s%s%n',
    '\r\n\r\nHTTP/1.1 200 OK',
    '../../../../etc/passwd',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }).map((s) => s.repeat(20_000)),
);

/** Any JSON value, including odd strings, huge numbers and deep nesting. */
const oddJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    oddString,
    fc.integer(),
    fc.double(),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 2 ** 31, 1e308, true, false, null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Nested JSON `depth` levels deep (arrays or objects). */
function deepJson(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Walk {
  private fragments: string[] = [];
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly random: () => number,
    private readonly strings: string[],
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private string(): string {
    return this.strings.length > 0 && this.chance(0.7) ? this.pick(this.strings) : Math.random().toString(36).slice(2);
  }

  /** A literal for an input type: usually right, sometimes of the wrong type. */
  literal(type: GraphQLInputType, depth = 0): string {
    if (this.chance(0.12)) return this.pick(['null', '42', '"x"', 'true', '[1, 2]', '{ nope: 1 }', 'ENUM_NOPE', '-1', '1.5', '99999999999999999999']);
    if (isNonNullType(type)) return this.literal(type.ofType, depth);
    if (isListType(type)) return `[${Array.from({ length: Math.floor(this.random() * 3) }, () => this.literal(type.ofType, depth + 1)).join(', ')}]`;
    if (isEnumType(type)) return this.pick(type.getValues()).name;
    if (isInputObjectType(type)) {
      if (depth > 4) return '{}';
      const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) || this.chance(0.5));
      return `{ ${fields.map((f) => `${f.name}: ${this.literal(f.type, depth + 1)}`).join(', ')} }`;
    }
    if (isScalarType(type)) {
      switch (type.name) {
        case 'Int':
          return this.pick(['0', '1', '10', '-5', '2147483647', '100000']);
        case 'Float':
          return this.pick(['0.5', '1e9', '-0.0', '3.14']);
        case 'Boolean':
          return this.pick(['true', 'false']);
        default:
          return JSON.stringify(this.string());
      }
    }
    return 'null';
  }

  private selection(type: GraphQLNamedType, depth: number, maxDepth: number): string {
    if (isUnionType(type) || isInterfaceType(type)) {
      const possible = this.schema.getPossibleTypes(type);
      const chosen = possible.filter(() => this.chance(0.5)).slice(0, 3);
      const parts = chosen.map((t) => `... on ${t.name} ${this.selection(t, depth + 1, maxDepth)}`);
      return `{ __typename ${parts.join(' ')} }`;
    }
    if (!isObjectType(type)) return '';
    const fields = Object.values(type.getFields());
    const count = 1 + Math.floor(this.random() * Math.min(5, fields.length));
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(this.field(this.pick(fields), depth, maxDepth));
    if (this.chance(0.1)) parts.push('__typename');
    if (this.chance(0.05)) {
      const name = `F${this.fragments.length}`;
      this.fragments.push(`fragment ${name} on ${type.name} { __typename }`);
      parts.push(`...${name}`);
    }
    return `{ ${parts.join(' ')} }`;
  }

  private field(field: GraphQLField<unknown, unknown>, depth: number, maxDepth: number): string {
    const alias = this.chance(0.15) ? `a${Math.floor(this.random() * 1000)}: ` : '';
    const args = field.args.filter((a) => isNonNullType(a.type) || this.chance(0.4));
    if (this.chance(0.05)) args.push({ name: 'bogusArg', type: field.args[0]?.type ?? (this.schema.getType('String') as GraphQLInputType) } as never);
    const argText = args.length > 0 ? `(${args.map((a) => `${a.name}: ${this.literal(a.type)}`).join(', ')})` : '';
    const named = getNamedType(field.type);
    const leaf = !isObjectType(named) && !isInterfaceType(named) && !isUnionType(named);
    if (leaf) return `${alias}${field.name}${argText}`;
    if (depth >= maxDepth) return `${alias}${field.name}${argText} { __typename }`;
    return `${alias}${field.name}${argText} ${this.selection(named, depth + 1, maxDepth)}`;
  }

  operation(): string {
    const root = this.pick(['query', 'query', 'query', 'mutation'] as const);
    const type = (root === 'query' ? this.schema.getQueryType() : this.schema.getMutationType()) as GraphQLObjectType;
    const body = this.selection(type, 0, 1 + Math.floor(this.random() * 6));
    const name = this.chance(0.5) ? ` Fuzz${Math.floor(this.random() * 100)}` : '';
    return [`${root}${name} ${body}`, ...this.fragments].join('\n');
  }
}

/** Requests built from the supergraph: mostly valid shapes, with wrong types, unknown arguments and odd strings. */
function schemaRequest(schema: GraphQLSchema): fc.Arbitrary<FuzzRequest> {
  return fc.record({ seed: fc.integer(), strings: fc.array(oddString, { maxLength: 6 }) }).map(({ seed, strings }) => ({ query: new Walk(schema, mulberry32(seed), strings).operation() }));
}

/** Requests whose variables are wrong: types, shapes, sizes, depth. */
function variablesRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    query: fc.constantFrom(
      'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { assistantMessage { id } } }',
      'mutation Create($input: CreateConversationInput!) { createConversation(input: $input) { id } }',
      'query Conversation($id: ID!) { conversation(id: $id) { id messages(first: 5) { edges { node { id } } } } }',
      'query List($first: Int, $after: String) { conversations(first: $first, after: $after) { edges { node { id } } } }',
      'mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }',
      'mutation Login($input: LoginInput!) { login(input: $input) { user { id } } }',
      'mutation Regenerate($messageId: ID!, $idempotencyKey: String) { regenerateMessage(messageId: $messageId, idempotencyKey: $idempotencyKey) { id } }',
    ),
    variables: fc.oneof(
      fc.dictionary(fc.constantFrom('input', 'id', 'first', 'after', 'messageId', 'idempotencyKey', '__proto__'), oddJson, { maxKeys: 4 }),
      oddJson,
      fc.constantFrom(deepJson(1_000, 'array'), deepJson(1_000, 'object'), { input: deepJson(1_000, 'object') }),
    ),
    operationName: fc.oneof(fc.constant(undefined), oddString, fc.integer()),
  });
}

/** Documents that are not GraphQL, or are GraphQL pushed to its limits (deep, wide, long). */
function brokenRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    fc.record({ query: oddString }),
    fc.record({ query: oddJson }),
    fc.integer({ min: 10, max: 3_000 }).map((depth) => ({ query: `query { ${'me { '.repeat(depth)}id${' }'.repeat(depth)} }` })),
    fc.integer({ min: 10, max: 3_000 }).map((n) => ({ query: `query { ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }` })),
    fc.integer({ min: 100, max: 20_000 }).map((n) => ({ query: `query { me { id ${'__typename '.repeat(n)} } }` })),
    fc.integer({ min: 10, max: 2_000 }).map((n) => ({ query: `query ${'{'.repeat(n)}` })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ query: `query { me { id } } ${s}` })),
    fc.constantFrom<FuzzRequest>(
      { query: 'subscription { messageStream(messageId: "x") { seq } }' },
      { query: 'query { __schema { types { name fields { name } } } }' },
      { query: 'query A { me { id } } query B { me { id } }' },
      { query: 'query A { me { id } } query B { me { id } }', operationName: 'C' },
      { query: 'fragment F on User { ...F } query { me { ...F } }' },
      { query: '{ me { id } }', variables: 'not an object' },
    ),
  );
}

/** The fuzz suite's HTTP requests: schema-driven, variables, broken (about 5 : 3 : 2). */
export function fuzzRequests(schema: GraphQLSchema): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ arbitrary: schemaRequest(schema), weight: 5 }, { arbitrary: variablesRequest(), weight: 3 }, { arbitrary: brokenRequest(), weight: 2 });
}

/** One frame for a graphql-transport-ws socket: text (JSON or not) or binary. */
export type FuzzFrame = { kind: 'text'; data: string } | { kind: 'binary'; data: Buffer };

const messageTypes = fc.constantFrom('connection_init', 'ping', 'pong', 'subscribe', 'complete', 'next', 'error', 'connection_ack', 'bogus', '', '__proto__');

export function fuzzFrames(schema: GraphQLSchema): fc.Arbitrary<FuzzFrame> {
  const subscriptionDoc = fc.oneof(
    fc.constantFrom(
      'subscription { messageStream(messageId: "00000000-0000-0000-0000-000000000000") { seq delta done } }',
      'subscription S($id: ID!) { messageStream(messageId: $id, afterSeq: -1) { seq } }',
      'subscription { imageJobUpdated(jobId: "x") { id } }',
      'query { me { id } }',
      'mutation { createConversation(input: {}) { id } }',
    ),
    schemaRequest(schema).map((r) => r.query as string),
    oddString,
  );
  const message = fc.record(
    {
      type: messageTypes,
      id: fc.oneof(fc.uuid(), oddString, fc.integer(), fc.constant(null)),
      payload: fc.oneof(
        fc.record({ query: subscriptionDoc, variables: fc.oneof(oddJson, fc.dictionary(fc.constantFrom('id', 'messageId'), oddJson, { maxKeys: 2 })) }, { requiredKeys: [] }),
        oddJson,
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    { arbitrary: message.map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })), weight: 6 },
    { arbitrary: oddString.map((s) => ({ kind: 'text' as const, data: s })), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((bytes) => ({ kind: 'binary' as const, data: Buffer.from(bytes) })), weight: 1 },
    {
      arbitrary: fc
        .constantFrom(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`, `{"type":"subscribe","id":"1","payload":{"query":"${'a'.repeat(2_000_000)}"}}`)
        .map((data) => ({ kind: 'text' as const, data })),
      weight: 1,
    },
  );
}
