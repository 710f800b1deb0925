import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCompositionErrors } from '../problems.ts';
import { REPO_ROOT } from '../subgraphs.ts';
import { failure, replaceOnce, withEdit } from './helpers.ts';

describe('composition errors', () => {
  it('name the subgraphs and locations of a field type conflict, one error per line', () => {
    const errors = failure(withEdit('image', (sdl) => replaceOnce(sdl, 'endCursor: String', 'endCursor: Int')));
    const mismatch = errors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
    expect(mismatch?.subgraphs).toEqual(['user', 'conversation', 'image', 'billing']);
    const text = formatCompositionErrors(errors);
    expect(text.split('\n')).toHaveLength(errors.length);
    expect(text).toMatch(
      /^FIELD_TYPE_MISMATCH \[user, conversation, image, billing\] Type of field "PageInfo\.endCursor" is incompatible .*type "Int" in subgraph "image".* \(at .*subgraphs\/image\/schema\.graphql:\d+:3/m,
    );
  });

  it('name the subgraph and line of an unknown type', () => {
    const errors = failure(
      withEdit('billing', (sdl) => replaceOnce(sdl, 'balanceAfter: Int!', 'balanceAfter: Amount!')),
    );
    const line = readFileSync(join(REPO_ROOT, 'subgraphs/billing/schema.graphql'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('balanceAfter: Int!')) + 1;
    expect(formatCompositionErrors(errors)).toBe(
      `INVALID_GRAPHQL [billing] Unknown type Amount (at subgraphs/billing/schema.graphql:${line}:17)`,
    );
  });

  it('name the subgraph of a syntax error', () => {
    const errors = failure(withEdit('user', (sdl) => replaceOnce(sdl, 'type Session', 'type Session {')));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(errors[0]?.subgraphs).toEqual(['user']);
    expect(formatCompositionErrors(errors)).toMatch(/^GRAPHQL_PARSE_FAILED \[user\] Syntax Error: .*subgraphs\/user\/schema\.graphql:\d+:\d+/);
  });
});

describe('subscriptions', () => {
  it('composition refuses a second owner, and @shareable on a Subscription field', () => {
    const second = failure(
      withEdit('image', (sdl) =>
        replaceOnce(
          sdl,
          'type Subscription @rateLimit(limit: 120, duration: 60) {',
          'type Subscription @rateLimit(limit: 120, duration: 60) {\n  "A second owner. Access: signed-in users."\n  messageStream("Id." messageId: ID!, "Seq." afterSeq: Int): Boolean! @authenticated',
        ),
      ),
    );
    expect(second.map((e) => e.code)).toContain('INVALID_FIELD_SHARING');

    const shareable = failure(
      withEdit('image', (sdl) =>
        replaceOnce(sdl, '): ImageJob! @policy(policies: [["owner"]])\n}', '): ImageJob! @shareable @policy(policies: [["owner"]])\n}'),
      ),
    );
    expect(formatCompositionErrors(shareable)).toMatch(/cannot be marked as shareable/);
  });
});
