/**
 * `npm run pq:publish -- --partner <id> <manifest.json> [--gateway <url>]` — publishes a partner's persisted query
 * list: calls the gateway's `publishPersistedQueries` (ADMIN) with the manifest file, exactly as any admin client
 * would, so the gateway checks every operation against the supergraph and the document limits it applies to the
 * partner's requests, and the user subgraph stores and spreads the list (docs/partners.md, "Publishing a list").
 *
 * It signs in as an admin: FIREFLY_ACCESS_TOKEN (an admin's access token), or FIREFLY_ADMIN_LOGIN (email or phone)
 * and FIREFLY_ADMIN_PASSWORD, which it exchanges for one with `login`. The gateway defaults to GATEWAY_URL, else
 * http://127.0.0.1:4000/graphql; `x-tenant-id` is FIREFLY_TENANT when set.
 * Exit codes: 0 published, 1 refused (the message says why; the old list stays), 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = 'usage: npm run pq:publish -- --partner <id> <manifest.json> [--gateway <url>]   (FIREFLY_ACCESS_TOKEN, or FIREFLY_ADMIN_LOGIN + FIREFLY_ADMIN_PASSWORD)';

const PUBLISH = /* GraphQL */ `
  mutation PublishPersistedQueries($partnerId: ID!, $manifest: JSON!) {
    publishPersistedQueries(partnerId: $partnerId, manifest: $manifest) { version operationCount publishedAt }
  }
`;
const LOGIN = /* GraphQL */ `
  mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }
`;

interface Answer {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function call(gateway: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> {
  const tenant = process.env.FIREFLY_TENANT;
  const response = await fetch(gateway, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(tenant ? { 'x-tenant-id': tenant } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  try {
    return JSON.parse(text) as Answer;
  } catch {
    return { errors: [{ message: `the gateway answered HTTP ${response.status}: ${text.slice(0, 200)}` }] };
  }
}

const describe = (answer: Answer) => (answer.errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n');

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { partner: { type: 'string' }, gateway: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const partnerId = parsed.values.partner;
  const [file, ...rest] = parsed.positionals;
  if (!partnerId || !file || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`cannot read ${file} as JSON: ${(error as Error).message}`);
    return 2;
  }
  const gateway = parsed.values.gateway ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';

  let token = process.env.FIREFLY_ACCESS_TOKEN;
  if (!token) {
    const login = process.env.FIREFLY_ADMIN_LOGIN;
    const password = process.env.FIREFLY_ADMIN_PASSWORD;
    if (!login || !password) {
      console.error(`set FIREFLY_ACCESS_TOKEN, or FIREFLY_ADMIN_LOGIN and FIREFLY_ADMIN_PASSWORD\n${USAGE}`);
      return 2;
    }
    const signedIn = await call(gateway, LOGIN, { input: { login, password } });
    token = signedIn.data?.login?.accessToken as string | undefined;
    if (!token) {
      console.error(`signing in failed:\n${describe(signedIn)}`);
      return 1;
    }
  }

  const answer = await call(gateway, PUBLISH, { partnerId, manifest }, token);
  const list = answer.data?.publishPersistedQueries as { version: number; operationCount: number; publishedAt: string } | undefined;
  if (!list) {
    console.error(`not published (the partner's previous list stays):\n${describe(answer)}`);
    return 1;
  }
  console.log(`published ${list.operationCount} operations for partner ${partnerId}: version ${list.version} at ${list.publishedAt}`);
  return 0;
}

process.exitCode = await main();
