// Baseline for `npm run bench`: Hive Gateway (the runtime of @graphql-hive/gateway, with its HTTP transport) on the
// same supergraph and subgraph processes. Settings are Hive's defaults but for two things: every subgraph fetch
// carries the one header our subgraphs require (a gateway credential signed once up front, added in `onFetch`), and
// with HIVE_UPSTREAM_DEDUP=false identical in-flight subgraph requests are not merged — what per-user traffic looks
// like, where each request carries its own identity and merging across requests cannot happen.
// Plain JavaScript on purpose: the runtime's type declarations pull in the DOM lib, whose fetch and stream types
// clash with Node's in this workspace's type check.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';

// Hive's HTTP executor hands every fetch to a subgraph the one abort signal of that subgraph's executor (its dispose
// signal); Node's http.request adds an abort listener to it per fetch and removes it when the fetch ends. With 16
// connections more than 10 fetches to one subgraph are in flight at once, which is all the MaxListenersExceededWarning
// the bench used to print from this process said: listeners bounded by concurrency, not a leak (our gateway gives
// each fetch a signal of its own, gateway/src/subgraph-fetch.ts, and prints none). The limit is raised for this
// baseline process only, high enough that a real leak would still be reported.
setMaxListeners(1_000);

const env = process.env;
const urls = {
  user: env.USER_SUBGRAPH_URL,
  conversation: env.CONVERSATION_SUBGRAPH_URL,
  image: env.IMAGE_SUBGRAPH_URL,
  billing: env.BILLING_SUBGRAPH_URL,
};
const credential = env.STATIC_CREDENTIAL;
const upstreamDedup = env.HIVE_UPSTREAM_DEDUP !== 'false';

const gateway = createGatewayRuntime({
  supergraph: readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8'),
  logging: 'error',
  transports: { http },
  transportEntries: Object.fromEntries(
    Object.entries(urls).map(([name, location]) => [name, { location, options: { deduplicateInflightRequests: upstreamDedup } }]),
  ),
  plugins: () => [
    {
      onFetch({ options, setOptions }) {
        setOptions({ ...options, headers: { ...options.headers, 'x-firefly-credential': credential } });
      },
    },
  ],
});
const server = createServer(gateway);
server.listen(Number(env.GATEWAY_PORT), '127.0.0.1', () => console.log(`ready http://127.0.0.1:${env.GATEWAY_PORT}/graphql`));
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
});
