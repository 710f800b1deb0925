import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';
import { DEFAULT_SUBGRAPH_URLS, REPO_ROOT, SUBGRAPH_NAMES, subgraphUrlsFromEnv, SUPERGRAPH_PATH } from '../subgraphs.ts';

describe('from the command line', () => {
  let root: string;
  let stderr: string[];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'compose-'));
    for (const name of SUBGRAPH_NAMES) {
      mkdirSync(join(root, 'subgraphs', name), { recursive: true });
      cpSync(join(REPO_ROOT, 'subgraphs', name, 'schema.graphql'), join(root, 'subgraphs', name, 'schema.graphql'));
    }
    mkdirSync(join(root, 'schema'));
    cpSync(SUPERGRAPH_PATH, join(root, 'schema', 'supergraph.graphql'));
    stderr = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stderr.push(args.join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it('exits 1 and prints the errors when a subgraph is broken', () => {
    const file = join(root, 'subgraphs', 'conversation', 'schema.graphql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('title: String!', 'title: Tiitle!'));
    expect(main([], { root })).toBe(1);
    expect(stderr.join('\n')).toMatch(/INVALID_GRAPHQL \[conversation\] Unknown type Tiitle \(at subgraphs\/conversation\/schema\.graphql:\d+:\d+\)/);
    expect(main(['--check'], { root })).toBe(1);
  });

  it('--check exits 1 naming the stale file, and compose then fixes it', () => {
    const committed = join(root, 'schema', 'supergraph.graphql');
    writeFileSync(committed, readFileSync(committed, 'utf8').replace('displayName: String!', 'displayName: String'));
    expect(main(['--check'], { root })).toBe(1);
    expect(stderr.join('\n')).toMatch(/schema\/supergraph\.graphql is stale \(first difference at line \d+\); run `npm run compose`/);
    expect(main([], { root })).toBe(0);
    expect(main(['--check'], { root })).toBe(0);
  });

  it('--out takes the routing URLs from the environment', () => {
    const out = join(root, 'deployed.graphql');
    expect(main(['--out', out], { root, env: { BILLING_SUBGRAPH_URL: 'http://billing:4004/graphql' } })).toBe(0);
    const sdl = readFileSync(out, 'utf8');
    expect(sdl).toContain('url: "http://billing:4004/graphql"');
    expect(sdl).toContain(`url: "${DEFAULT_SUBGRAPH_URLS.user}"`);
  });
});

describe('routing URLs', () => {
  it('carries the default routing URLs whatever the environment says', () => {
    const sdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
    for (const url of Object.values(DEFAULT_SUBGRAPH_URLS)) expect(sdl).toContain(`url: "${url}"`);
    const fromEnv = subgraphUrlsFromEnv({ USER_SUBGRAPH_URL: 'http://user:4001/graphql' });
    expect(fromEnv.user).toBe('http://user:4001/graphql');
    expect(fromEnv.billing).toBe(DEFAULT_SUBGRAPH_URLS.billing);
    expect(() => subgraphUrlsFromEnv({ IMAGE_SUBGRAPH_URL: 'not a url' })).toThrow(/IMAGE_SUBGRAPH_URL/);
  });
});
