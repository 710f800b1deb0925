// The supergraph of this repository: the committed file is fresh and loads in @apollo/gateway, every subgraph
// declares access, the internal billing API stays internal, and the public API keeps its operation names,
// arguments, types and enums exactly (clients and partners rely on them; docs/api-guide.md).
import { Supergraph } from '@apollo/federation-internals';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  Kind,
  parse,
  type GraphQLField,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkAccessDeclarations,
  composeSupergraph,
  formatCompositionErrors,
  loadSubgraphs,
  removeSubgraphEnforcedFeatures,
  SUBGRAPH_NAMES,
  SUPERGRAPH_PATH,
} from '@firefly/supergraph';

const INTERNAL_BILLING_NAMES = [
  'reserveCredits',
  'reserveChatCredits',
  'reserveImageCredits',
  'settleReservation',
  'releaseReservation',
  'grantSignupCredits',
  'Reservation',
  'ReservationStatus',
  'ReserveCreditsInput',
  'ReserveChatCreditsInput',
  'ReserveImageCreditsInput',
];

function composed(): Extract<ReturnType<typeof composeSupergraph>, { ok: true }> {
  const result = composeSupergraph(loadSubgraphs());
  if (!result.ok) throw new Error(formatCompositionErrors(result.errors));
  return result;
}

function signature(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.map((a) => `${a.name}: ${String(a.type)}`).join(', ');
  return `${field.name}${args ? `(${args})` : ''}: ${String(field.type)}`;
}

function fieldsOf(schema: GraphQLSchema, typeName: string): string[] {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type of the API schema`);
  return Object.values(type.getFields()).map(signature);
}

describe('committed supergraph', () => {
  it('is what composing the subgraphs produces now (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composed().supergraphSdl);
  });

  it('loads in @apollo/gateway, which refuses SECURITY features it cannot enforce', () => {
    const sdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
    // Default supported features = what ApolloGateway accepts.
    const supergraph = Supergraph.build(sdl);
    expect([...supergraph.subgraphs().names()].sort()).toEqual([...SUBGRAPH_NAMES].sort());
    // …whereas composition's own output is refused by it, hence removeSubgraphEnforcedFeatures.
    expect(() => Supergraph.build(composed().fullSupergraphSdl)).toThrow(/is for: SECURITY but is unsupported/);
    expect(sdl).not.toMatch(/@authenticated|@requiresScopes|@policy|policy__|requiresScopes__/);
    expect(removeSubgraphEnforcedFeatures(sdl)).toBe(sdl);
  });
});

describe('the schema clients see', () => {
  it('describes every type, field, argument, input field and enum value, and says who may use each field', () => {
    const api = Supergraph.build(readFileSync(SUPERGRAPH_PATH, 'utf8')).apiSchema().toGraphQLJSSchema();
    const undescribed: string[] = [];
    const need = (coordinate: string, description: string | null | undefined) => {
      if (!description?.trim()) undescribed.push(coordinate);
    };
    const unstatedAccess: string[] = [];
    for (const type of Object.values(api.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      need(type.name, type.description);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          if ('args' in field) for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
        }
      }
      if (isEnumType(type)) for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
      if (['Query', 'Mutation', 'Subscription'].includes(type.name) && isObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (!/Access: /.test(field.description ?? '')) unstatedAccess.push(`${type.name}.${field.name}`);
      }
    }
    expect(undescribed).toEqual([]);
    expect(unstatedAccess).toEqual([]);
  });
});

describe('internal billing API', () => {
  it('is absent from the API schema the gateway serves', () => {
    const api = Supergraph.build(readFileSync(SUPERGRAPH_PATH, 'utf8')).apiSchema().toGraphQLJSSchema();
    const mutation = api.getMutationType();
    for (const name of INTERNAL_BILLING_NAMES) {
      expect(mutation?.getFields()[name], `Mutation.${name}`).toBeUndefined();
      expect(api.getType(name), name).toBeUndefined();
    }
    const apiSdl = composed().apiSchemaSdl;
    for (const name of INTERNAL_BILLING_NAMES) expect(apiSdl).not.toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('is served by the billing subgraph itself, service-scoped', () => {
    const billing = loadSubgraphs().find((s) => s.name === 'billing');
    if (billing === undefined) throw new Error('billing subgraph missing');
    const schema = buildSubgraphSchema({ typeDefs: parse(billing.sdl) });
    const fields = schema.getMutationType()?.getFields() ?? {};
    for (const name of ['reserveCredits', 'reserveChatCredits', 'reserveImageCredits', 'settleReservation', 'releaseReservation', 'grantSignupCredits']) {
      const directives = fields[name]?.astNode?.directives?.map((d) => d.name.value) ?? [];
      expect(directives, `Mutation.${name}`).toEqual(expect.arrayContaining(['inaccessible', 'requiresScopes']));
    }
    expect(signature(fields['reserveCredits']!)).toBe('reserveCredits(input: ReserveCreditsInput!): Reservation!');
    expect(signature(fields['reserveChatCredits']!)).toBe('reserveChatCredits(input: ReserveChatCreditsInput!): Reservation!');
    expect(signature(fields['reserveImageCredits']!)).toBe('reserveImageCredits(input: ReserveImageCreditsInput!): Reservation!');
    expect(signature(fields['settleReservation']!)).toBe(
      'settleReservation(id: ID!, actualAmount: Int!, reason: LedgerReason!, referenceId: String): Reservation!',
    );
    expect(signature(fields['releaseReservation']!)).toBe('releaseReservation(id: ID!): Reservation!');
    expect(signature(fields['grantSignupCredits']!)).toBe('grantSignupCredits(userId: ID!): CreditBalance!');
  });
});

describe('subscriptions', () => {
  it('every Subscription field is owned by exactly one subgraph', () => {
    const owners = new Map<string, string[]>();
    for (const subgraph of loadSubgraphs()) {
      for (const def of parse(subgraph.sdl).definitions) {
        if ((def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) && def.name.value === 'Subscription') {
          for (const field of def.fields ?? []) owners.set(field.name.value, [...(owners.get(field.name.value) ?? []), subgraph.name]);
        }
      }
    }
    expect(Object.fromEntries(owners)).toEqual({ messageStream: ['conversation'], imageJobUpdated: ['image'] });

    // The supergraph agrees: one @join__field(graph:) per Subscription field.
    const supergraph = parse(readFileSync(SUPERGRAPH_PATH, 'utf8'));
    const subscription = supergraph.definitions.find(
      (d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Subscription',
    );
    const joined = Object.fromEntries(
      (subscription?.fields ?? []).map((f) => [
        f.name.value,
        (f.directives ?? [])
          .filter((d) => d.name.value === 'join__field')
          .map((d) => {
            const graph = d.arguments?.find((a) => a.name.value === 'graph')?.value;
            return graph?.kind === Kind.ENUM ? graph.value : '?';
          }),
      ]),
    );
    expect(joined).toEqual({ messageStream: ['CONVERSATION'], imageJobUpdated: ['IMAGE'] });
  });

});

describe('access declarations', () => {
  it('every subgraph declares access on every root field and user-data field', () => {
    for (const subgraph of loadSubgraphs()) {
      expect(checkAccessDeclarations(subgraph.name, parse(subgraph.sdl)), subgraph.name).toEqual([]);
    }
  });
});

describe('public API', () => {
  const api = buildSchema(composed().apiSchemaSdl);

  it('has every root operation with its arguments and result', () => {
    expect(fieldsOf(api, 'Query')).toEqual(
      expect.arrayContaining([
        'me: User',
        'user(id: ID!): User',
        'users(first: Int, after: String, query: String): UserConnection!',
        'mySessions: [Session!]!',
        'chatModels: [ChatModel!]!',
        'conversations(first: Int, after: String): ConversationConnection!',
        'conversation(id: ID!): Conversation',
        'imageModels: [ImageModel!]!',
        'imageJob(id: ID!): ImageJob',
        'imageJobs(first: Int, after: String, status: ImageJobStatus): ImageJobConnection!',
        'products: [Product!]!',
        'order(id: ID!): Order',
      ]),
    );
    expect(fieldsOf(api, 'Mutation')).toEqual(
      expect.arrayContaining([
        'register(input: RegisterInput!): AuthPayload!',
        'login(input: LoginInput!): AuthPayload!',
        'requestSmsCode(phone: String!, purpose: SmsPurpose!): SmsCodeTicket!',
        'loginWithSmsCode(phone: String!, code: String!): AuthPayload!',
        'refreshSession(refreshToken: String!): AuthPayload!',
        'logout: Boolean!',
        'revokeSession(id: ID!): Boolean!',
        'updateProfile(input: UpdateProfileInput!): User!',
        'changePassword(currentPassword: String!, newPassword: String!): Boolean!',
        'setUserRoles(userId: ID!, roles: [Role!]!): User!',
        'setUserStatus(userId: ID!, status: UserStatus!): User!',
        'createConversation(input: CreateConversationInput!): Conversation!',
        'updateConversation(id: ID!, input: UpdateConversationInput!): Conversation!',
        'deleteConversation(id: ID!): Boolean!',
        'sendMessage(input: SendMessageInput!): SendMessagePayload!',
        'stopGeneration(messageId: ID!): Message!',
        'regenerateMessage(messageId: ID!, idempotencyKey: String): Message!',
        'createImageJob(input: CreateImageJobInput!): ImageJob!',
        'cancelImageJob(id: ID!): ImageJob!',
        'deleteImage(id: ID!): Boolean!',
        'createUploadUrl(contentType: String!, byteSize: Int!): UploadTicket!',
        'createOrder(productId: ID!, channel: PaymentChannel!): Order!',
        'cancelOrder(id: ID!): Order!',
        'refundOrder(id: ID!, amountFen: Int, reason: String!): Order!',
        'adjustCredits(userId: ID!, delta: Int!, note: String!): CreditBalance!',
      ]),
    );
    expect(fieldsOf(api, 'Subscription')).toEqual([
      'messageStream(messageId: ID!, afterSeq: Int): MessageStreamEvent!',
      'imageJobUpdated(jobId: ID!): ImageJob!',
    ]);
  });

  it('has every contract type with its fields', () => {
    const expected: Record<string, string[]> = {
      User: [
        'id: ID!', 'displayName: String!', 'email: String', 'phone: String', 'avatarUrl: String', 'roles: [Role!]!',
        'status: UserStatus!', 'createdAt: DateTime!',
        'conversations(first: Int, after: String): ConversationConnection!',
        'imageJobs(first: Int, after: String): ImageJobConnection!',
        'creditBalance: CreditBalance!',
        'ledger(first: Int, after: String): LedgerEntryConnection!',
        'orders(first: Int, after: String): OrderConnection!',
      ],
      AuthPayload: ['accessToken: String!', 'refreshToken: String!', 'expiresIn: Int!', 'user: User!'],
      SmsCodeTicket: ['cooldownSeconds: Int!'],
      Session: ['id: ID!', 'userAgent: String', 'ip: String', 'createdAt: DateTime!', 'lastUsedAt: DateTime!', 'current: Boolean!'],
      Conversation: [
        'id: ID!', 'title: String!', 'owner: User!', 'model: ChatModel!', 'systemPrompt: String',
        'parameters: ChatParameters!', 'messages(first: Int, after: String): MessageConnection!', 'lastMessage: Message',
        'createdAt: DateTime!', 'updatedAt: DateTime!',
      ],
      Message: [
        'id: ID!', 'conversation: Conversation!', 'role: MessageRole!', 'content: String!', 'status: MessageStatus!',
        'usage: TokenUsage', 'finishReason: String', 'error: String', 'creditsCharged: Int', 'createdAt: DateTime!',
      ],
      ChatModel: ['id: ID!', 'name: String!', 'description: String', 'maxInputTokens: Int!', 'maxOutputTokens: Int!'],
      TokenUsage: ['inputTokens: Int!', 'outputTokens: Int!', 'totalTokens: Int!'],
      SendMessagePayload: ['userMessage: Message!', 'assistantMessage: Message!'],
      MessageStreamEvent: ['messageId: ID!', 'seq: Int!', 'delta: String!', 'done: Boolean!', 'message: Message'],
      ImageJob: [
        'id: ID!', 'owner: User!', 'prompt: String!', 'negativePrompt: String', 'model: String!', 'size: String!',
        'count: Int!', 'status: ImageJobStatus!', 'progress: Float!', 'images: [Image!]!', 'error: String',
        'creditsCharged: Int', 'createdAt: DateTime!', 'finishedAt: DateTime',
      ],
      Image: ['id: ID!', 'job: ImageJob!', 'url: String!', 'width: Int!', 'height: Int!', 'contentType: String!', 'createdAt: DateTime!'],
      ImageModel: ['id: ID!', 'name: String!', 'sizes: [String!]!', 'maxCount: Int!'],
      UploadTicket: ['url: String!', 'method: String!', 'headers: JSON!', 'key: String!', 'expiresAt: DateTime!'],
      Product: ['id: ID!', 'name: String!', 'credits: Int!', 'priceFen: Int!', 'active: Boolean!'],
      Order: [
        'id: ID!', 'product: Product!', 'amountFen: Int!', 'credits: Int!', 'channel: PaymentChannel!',
        'status: OrderStatus!', 'payment: PaymentInstruction', 'paidAt: DateTime', 'createdAt: DateTime!',
      ],
      PaymentInstruction: ['qrCodeUrl: String', 'payUrl: String', 'expiresAt: DateTime!'],
      CreditBalance: ['available: Int!', 'reserved: Int!'],
      LedgerEntry: ['id: ID!', 'delta: Int!', 'balanceAfter: Int!', 'reason: LedgerReason!', 'referenceId: String', 'createdAt: DateTime!'],
      PageInfo: ['hasNextPage: Boolean!', 'endCursor: String'],
    };
    for (const [type, fields] of Object.entries(expected)) {
      expect(fieldsOf(api, type), type).toEqual(expect.arrayContaining(fields));
    }
    for (const connection of ['User', 'Conversation', 'Message', 'ImageJob', 'LedgerEntry', 'Order']) {
      expect(fieldsOf(api, `${connection}Connection`)).toEqual([`edges: [${connection}Edge!]!`, 'pageInfo: PageInfo!']);
      expect(fieldsOf(api, `${connection}Edge`)).toEqual(['cursor: String!', `node: ${connection}!`]);
    }
  });

  it('has the contract enums and inputs', () => {
    const enumValues = (name: string): string[] => {
      const type = api.getType(name);
      if (!isEnumType(type)) throw new Error(`${name} is not an enum of the API schema`);
      return type.getValues().map((v) => v.name);
    };
    expect(enumValues('Role')).toEqual(['USER', 'ADMIN']);
    expect(enumValues('UserStatus')).toEqual(['ACTIVE', 'SUSPENDED']);
    expect(enumValues('MessageRole')).toEqual(['USER', 'ASSISTANT', 'SYSTEM']);
    expect(enumValues('MessageStatus')).toEqual(['COMPLETED', 'STREAMING', 'STOPPED', 'FAILED']);
    expect(enumValues('ImageJobStatus')).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED']);
    expect(enumValues('PaymentChannel')).toEqual(['ALIPAY', 'WECHAT']);
    expect(enumValues('OrderStatus')).toEqual(['PENDING', 'PAID', 'CLOSED', 'REFUNDING', 'REFUNDED', 'PARTIALLY_REFUNDED']);
    expect(enumValues('LedgerReason')).toEqual(['PURCHASE', 'CHAT_USAGE', 'IMAGE_USAGE', 'REFUND', 'ADJUSTMENT', 'GRANT']);
    const inputFields = (name: string): string[] => {
      const type = api.getType(name);
      if (!isInputObjectType(type)) throw new Error(`${name} is not an input type of the API schema`);
      return Object.values(type.getFields()).map((f) => `${f.name}: ${String(f.type)}`);
    };
    expect(inputFields('RegisterInput')).toEqual(
      expect.arrayContaining(['email: String', 'phone: String', 'smsCode: String', 'password: String', 'displayName: String!']),
    );
    expect(inputFields('LoginInput')).toEqual(['login: String!', 'password: String!']);
    expect(inputFields('SendMessageInput')).toEqual(expect.arrayContaining(['conversationId: ID!', 'content: String!', 'idempotencyKey: String']));
    expect(inputFields('CreateImageJobInput')).toEqual(
      expect.arrayContaining(['prompt: String!', 'negativePrompt: String', 'model: String', 'size: String', 'count: Int', 'seed: Int', 'idempotencyKey: String']),
    );
    expect(api.getType('DateTime')).toBeDefined();
    expect(api.getType('JSON')).toBeDefined();
  });

  it('shares one identical PageInfo across the subgraphs', () => {
    const printed = loadSubgraphs().map((s) => {
      const def = parse(s.sdl).definitions.find(
        (d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'PageInfo',
      );
      return def === undefined ? undefined : s.sdl.slice(def.loc?.start, def.loc?.end);
    });
    expect(new Set(printed).size).toBe(1);
    expect(printed[0]).toContain('@shareable');
  });
});
