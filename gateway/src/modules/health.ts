import type { JSONWebKeySet } from 'jose';
import type { Redis } from '@firefly/redis';
import type { GatewayModule } from './module.ts';

/**
 * The gateway's own routes besides GraphQL: the JWKS (public keys for access tokens), and what `/readyz` checks —
 * every subgraph's `/healthz` and Redis (sessions, rate limits). `/healthz`, `/readyz` and `/metrics` themselves are
 * server-kit's shell, as on every process.
 */
export function useHealthRoutes(options: { jwks: JSONWebKeySet | undefined; subgraphUrls: Readonly<Record<string, string>>; redis: Redis }): GatewayModule {
  return {
    name: 'health',
    routes(app) {
      app.get('/.well-known/jwks.json', (_req, res) => {
        res.setHeader('cache-control', 'public, max-age=300');
        res.json(options.jwks ?? { keys: [] });
      });
    },
    readiness: [
      ...Object.entries(options.subgraphUrls).map(([name, url]) => ({
        name,
        async check() {
          const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2_000) });
          if (!response.ok) throw new Error(`answered ${response.status}`);
        },
      })),
      { name: 'redis', check: () => options.redis.ping() },
    ],
  };
}
