import {
  defaultFieldResolver,
  isNonNullType,
  isObjectType,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { AppError, forbidden, unauthenticated } from '@firefly/errors';
import { isAdmin, type Identity } from '@firefly/auth';
import { ACCESS_DIRECTIVES, isAccessScope, type AccessPolicy, type AccessScope } from './access-rules.ts';
import type { BaseContext } from './context.ts';

/**
 * Enforces the access rules declared on a subgraph's SDL with federation's directives, in the subgraph that owns
 * the field, so that no resolver can forget a check:
 * - `@authenticated`: a signed-in user (or a service) is required, else UNAUTHENTICATED;
 * - `@requiresScopes(scopes: [["admin"], …])`: any one inner list fully held; scopes map to roles
 *   (`admin` → ADMIN, `user` → any signed-in user) and `service` to a service credential;
 * - `@policy(policies: [["owner"], …])`: any one inner list of named policies all pass; `public` always passes.
 * The names are those of `access-rules.ts`; an unknown one fails the boot, never opens a hole.
 * A rule on a type applies to every field of the type; rules on the field apply in addition. A service credential
 * passes every rule (it acts for the user named in its arguments). A nullable non-root field whose policy fails
 * resolves to null (e.g. another user's email); everything else fails with UNAUTHENTICATED or FORBIDDEN.
 */
export type PolicyCheck = (input: {
  identity: Identity;
  /** The object whose field is resolved; undefined on root fields. */
  parent: unknown;
  /** GraphQL type name of `parent` (e.g. `User`). */
  typeName: string;
  args: Record<string, unknown>;
}) => boolean;

export interface AccessOptions {
  /**
   * Replaces a shared policy's check in this subgraph. There are no others to add: the supergraph tooling refuses
   * any name outside `ACCESS_POLICIES`. Default: {@link sharedPolicies}.
   */
  policies?: Partial<Record<AccessPolicy, PolicyCheck>>;
}

interface Rule {
  authenticated: boolean;
  scopes: string[][] | null;
  policies: string[][] | null;
  /** Whether an anonymous caller is refused outright; derived once when the schema is built. */
  requiresSignIn: boolean;
}

export function applyAccessPolicies(schema: GraphQLSchema, options: AccessOptions = {}): GraphQLSchema {
  const policies: Record<string, PolicyCheck> = { ...sharedPolicies, ...options.policies };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type.name === '_Service') continue;
    const typeRule = readRule(typeDirectives(type));
    for (const field of Object.values(type.getFields())) {
      const fieldRule = readRule(field.astNode?.directives ?? []);
      const rules = [typeRule, fieldRule].filter((r): r is Rule => r !== null);
      if (rules.length === 0) continue;
      for (const rule of rules) {
        for (const name of rule.policies?.flat() ?? []) {
          if (!Object.hasOwn(policies, name)) throw new Error(`access policy "${name}" on ${type.name}.${field.name} has no implementation`);
        }
        for (const name of rule.scopes?.flat() ?? []) {
          if (!isAccessScope(name)) throw new Error(`access scope "${name}" on ${type.name}.${field.name} is not one of access-rules.ts`);
        }
      }
      const rootTypes = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
      const nullOnDeny = !isNonNullType(field.type) && !rootTypes.includes(type);
      wrapField(type.name, field, rules, policies, nullOnDeny);
    }
  }
  return schema;
}

function typeDirectives(type: GraphQLObjectType): readonly ConstDirectiveNode[] {
  return [...(type.astNode?.directives ?? []), ...type.extensionASTNodes.flatMap((node) => node.directives ?? [])];
}

function readRule(directives: readonly ConstDirectiveNode[]): Rule | null {
  let rule: Rule | null = null;
  for (const directive of directives) {
    const name = directive.name.value;
    if (!(ACCESS_DIRECTIVES as readonly string[]).includes(name)) continue;
    rule ??= { authenticated: false, scopes: null, policies: null, requiresSignIn: false };
    if (name === 'authenticated') rule.authenticated = true;
    const arg = directive.arguments?.[0];
    if (name === 'requiresScopes' && arg) rule.scopes = valueFromASTUntyped(arg.value) as string[][];
    if (name === 'policy' && arg) rule.policies = valueFromASTUntyped(arg.value) as string[][];
  }
  if (rule) {
    const onlyPublic = rule.policies?.every((all) => all.every((p) => p === 'public')) ?? false;
    rule.requiresSignIn = rule.authenticated || rule.scopes !== null || (rule.policies !== null && !onlyPublic);
  }
  return rule;
}

function wrapField(typeName: string, field: GraphQLField<unknown, unknown>, rules: Rule[], policies: Record<string, PolicyCheck>, nullOnDeny: boolean) {
  // Synchronous on purpose: this runs for every field of every protected object (e.g. 20 conversations × their
  // fields), and an async wrapper would add a promise and a microtask to each.
  const check = (parent: unknown, args: Record<string, unknown>, context: unknown) => {
    const { identity } = context as BaseContext;
    if (identity.kind === 'service') return;
    for (const rule of rules) enforce(rule, { identity, parent, typeName, args }, policies);
  };
  const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
  field.resolve = (parent, args, context, info) => {
    try {
      check(parent, args, context);
    } catch (error) {
      if (nullOnDeny && error instanceof AppError && error.code === 'FORBIDDEN') return null;
      throw error;
    }
    return resolve(parent, args, context, info);
  };
  const subscribe = field.subscribe;
  if (subscribe) {
    field.subscribe = (parent, args, context, info) => {
      check(parent, args, context);
      return subscribe(parent, args, context, info);
    };
  }
}

function enforce(rule: Rule, input: Parameters<PolicyCheck>[0], policies: Record<string, PolicyCheck>): void {
  const { identity } = input;
  const signedIn = identity.kind !== 'anonymous';
  if (rule.requiresSignIn && !signedIn) throw unauthenticated();
  if (rule.scopes && !rule.scopes.some((all) => all.every((scope) => holdsScope(identity, scope as AccessScope)))) throw forbidden();
  if (rule.policies && !rule.policies.some((all) => all.every((name) => policies[name]!(input)))) throw forbidden();
}

function holdsScope(identity: Identity, scope: AccessScope): boolean {
  switch (scope) {
    case 'service':
      return identity.kind === 'service';
    case 'admin':
      return isAdmin(identity);
    case 'user':
      return identity.kind === 'user';
  }
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** Owner of an object for the `owner` policies: a User is its own owner; any other row has a `userId`. */
function ownerIdOf(parent: unknown, typeName: string): string | undefined {
  if (!parent || typeof parent !== 'object') return undefined;
  const row = parent as { id?: unknown; userId?: unknown };
  const owner = typeName === 'User' ? row.id : row.userId;
  return typeof owner === 'string' ? owner : undefined;
}

/** True when the caller owns `parent` or is an ADMIN. */
export function isOwnerOrAdmin(identity: Identity, parent: unknown, typeName: string): boolean {
  if (identity.kind !== 'user') return false;
  return isAdmin(identity) || ownerIdOf(parent, typeName) === identity.userId;
}

/**
 * The checks of the policies in `ACCESS_POLICIES`, shared by every subgraph.
 * `owner` on a root field only requires a signed-in user: the resolver scopes its lookup to the caller, so a
 * foreign id answers exactly like a missing one. `owner_or_masked` lets the field resolve; its resolver masks.
 */
export const sharedPolicies: Record<AccessPolicy, PolicyCheck> = {
  public: () => true,
  owner: ({ identity, parent, typeName }) => (ROOT_TYPES.has(typeName) ? identity.kind === 'user' : isOwnerOrAdmin(identity, parent, typeName)),
  owner_or_masked: () => true,
};
