import cors from 'cors';
import helmet from 'helmet';
import type { GatewayModule } from './module.ts';

export interface BrowserSecurityOptions {
  /** Origins (`scheme://host[:port]`) whose pages may call the gateway from a browser (CORS_ORIGINS). */
  origins: readonly string[];
  /** HSTS only in production (served over HTTPS there; a development http:// host must not be pinned to HTTPS). */
  production: boolean;
}

/**
 * What browsers need from the one public door. CORS (the `cors` package) on `/graphql` for an allow-list of origins:
 * a listed origin gets `access-control-allow-origin` naming it, any other none (a refused preflight is answered 204
 * without CORS headers, so it never reaches GraphQL). Security headers (helmet) on every answer: `nosniff`,
 * `frame-ancestors 'none'` and `X-Frame-Options: DENY` (the API is never framed), HSTS in production, and helmet's
 * other defaults. The CSP is `default-src 'none'` in production (JSON only); elsewhere it leaves the development
 * Sandbox page free to load.
 */
export function useBrowserSecurity(options: BrowserSecurityOptions): GatewayModule {
  const allowed = new Set(options.origins);
  const corsMiddleware = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    // Readable by the page: the id to quote when reporting a problem, and when to retry a RATE_LIMITED request.
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  return {
    name: 'browser-security',
    headers: helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          // Production serves JSON only; elsewhere the Sandbox page loads its scripts from Apollo's CDN.
          'default-src': options.production ? ["'none'"] : helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc,
          'frame-ancestors': ["'none'"],
        },
      },
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: options.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    }),
    routes(app) {
      app.use('/graphql', (req, res, next) => {
        // Answers differ by Origin (allowed or not): shared caches must keep them apart.
        res.vary('Origin');
        corsMiddleware(req, res, (error?: unknown) => {
          if (error) return next(error);
          if (req.method === 'OPTIONS') return void res.status(204).end();
          next();
        });
      });
    },
  };
}
