import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ACCESS_POLICIES, ACCESS_SCOPES } from '@firefly/server-kit/access-rules';
import { checkAccessDeclarations } from '../access-declarations.ts';
import { formatCompositionErrors } from '../problems.ts';
import { failure, replaceOnce, withEdit } from './helpers.ts';

describe('access declarations', () => {
  it('accepts every scope and policy the subgraphs enforce, from the one list server-kit enforces', () => {
    const declared = [
      ...Object.keys(ACCESS_SCOPES).map((scope) => `@requiresScopes(scopes: [["${scope}"]])`),
      ...Object.keys(ACCESS_POLICIES).map((policy) => `@policy(policies: [["${policy}"]])`),
    ];
    const sdl = `type Query {\n${declared.map((directive, i) => `  f${i}: Int ${directive}`).join('\n')}\n}`;
    expect(checkAccessDeclarations('test', parse(sdl))).toEqual([]);
    expect(Object.keys(ACCESS_SCOPES)).toContain('user');
  });

  it('a forgotten or misspelt directive fails composition', () => {
    const forgotten = failure(
      withEdit('image', (sdl) => replaceOnce(sdl, '): Boolean! @policy(policies: [["owner"]])', '): Boolean!')),
    );
    expect(formatCompositionErrors(forgotten)).toMatch(/^ACCESS_NOT_DECLARED \[image\] Mutation\.deleteImage declares no access.* \(at subgraphs\/image\/schema\.graphql:\d+:3\)$/);

    // Composition itself ignores unknown directives, so a typo would silently open the field.
    const typo = failure(withEdit('user', (sdl) => replaceOnce(sdl, 'logout: Boolean! @authenticated', 'logout: Boolean! @authenticate')));
    expect(typo.map((e) => e.code)).toEqual(['ACCESS_NOT_DECLARED']);

    const typeLevel = failure(withEdit('billing', (sdl) => replaceOnce(sdl, 'type LedgerEntry @policy(policies: [["owner"]]) {', 'type LedgerEntry {')));
    expect(typeLevel.map((e) => e.message)).toContain(
      'LedgerEntry.id declares no access: add @authenticated, @requiresScopes or @policy to the field or to type LedgerEntry',
    );
  });

  it('unknown policy and scope names fail composition', () => {
    const errors = failure(
      withEdit('conversation', (sdl) =>
        replaceOnce(
          replaceOnce(sdl, 'chatModels: [ChatModel!]! @policy(policies: [["public"]])', 'chatModels: [ChatModel!]! @policy(policies: [["everyone"]])'),
          '): Conversation! @authenticated',
          '): Conversation! @requiresScopes(scopes: [["root"]])',
        ),
      ),
    );
    expect(errors.map((e) => e.code).sort()).toEqual(['UNKNOWN_POLICY', 'UNKNOWN_SCOPE']);
  });

  it('internal (@inaccessible) operations must be service-only', () => {
    const errors = failure(
      withEdit('billing', (sdl) =>
        replaceOnce(sdl, '): Reservation! @inaccessible @requiresScopes(scopes: [["service"]])', '): Reservation! @inaccessible @authenticated'),
      ),
    );
    expect(errors.map((e) => e.code)).toEqual(['INTERNAL_FIELD_NOT_SERVICE_ONLY']);
  });
});
