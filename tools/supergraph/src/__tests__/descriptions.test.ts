import { parse, visit, type ASTNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkDescriptions } from '../descriptions.ts';
import { formatCompositionErrors } from '../problems.ts';
import { failure, replaceOnce, withEdit } from './helpers.ts';

const described = `
"A thing. Access: anyone."
type Thing @policy(policies: [["public"]]) {
  "Its id."
  id: ID!
  """
  Its label, in a language.
  Access: signed-in users.
  """
  label(
    "BCP 47 tag."
    lang: String
  ): String @authenticated
}
"Kinds."
enum Kind {
  "The first kind."
  A
}
"What to make."
input MakeInput {
  "How many."
  count: Int
}
`;

describe('descriptions', () => {
  it('accept a schema where every element is described and access is stated', () => {
    expect(checkDescriptions('test', parse(described))).toEqual([]);
  });

  it('name every undescribed type, field, argument, input field and enum value', () => {
    const bare = visit(parse(described), {
      enter: (node: ASTNode) => ('description' in node && node.description ? { ...node, description: undefined } : undefined),
    });
    const problems = checkDescriptions('test', bare);
    expect(problems.map((p) => p.message.split(' ')[0])).toEqual([
      'Thing',
      'Thing.id',
      'Thing.label',
      'Thing.label(lang:)',
      'Kind',
      'Kind.A',
      'MakeInput',
      'MakeInput.count',
    ]);
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['MISSING_DESCRIPTION']));
  });

  it('refuse a type or field that declares access without saying who may use it', () => {
    const silent = described.replace('"A thing. Access: anyone."', '"A thing."');
    expect(checkDescriptions('test', parse(silent)).map((p) => [p.code, p.message.split(' ')[0]])).toEqual([['ACCESS_NOT_DESCRIBED', 'Thing']]);
  });

  it('make composition of the real subgraphs fail, naming the subgraph and line', () => {
    const errors = failure(withEdit('billing', (sdl) => replaceOnce(sdl, '  "Credits that can be spent now."\n', '')));
    expect(formatCompositionErrors(errors)).toMatch(
      /^MISSING_DESCRIPTION \[billing\] CreditBalance\.available has no description.* \(at subgraphs\/billing\/schema\.graphql:\d+:3\)$/,
    );
  });
});
