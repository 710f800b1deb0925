import { expect } from 'vitest';
import { composeSupergraph } from '../compose.ts';
import type { CompositionProblem } from '../problems.ts';
import { loadSubgraphs, type SubgraphSource } from '../subgraphs.ts';

/** This repository's subgraphs with one SDL edited. */
export function withEdit(name: string, edit: (sdl: string) => string): SubgraphSource[] {
  return loadSubgraphs().map((s) => (s.name === name ? { ...s, sdl: edit(s.sdl) } : s));
}

export function replaceOnce(sdl: string, from: string, to: string): string {
  expect(sdl, `the fixture edit needs "${from}" in the SDL`).toContain(from);
  return sdl.replace(from, to);
}

/** The problems of a composition that must fail. */
export function failure(subgraphs: SubgraphSource[]): CompositionProblem[] {
  const result = composeSupergraph(subgraphs);
  if (result.ok) throw new Error('expected composition to fail');
  return result.errors;
}
