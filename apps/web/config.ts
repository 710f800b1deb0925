/**
 * The web app's development and build settings, read once like every process's configuration (.env.example,
 * section "web app"). The browser code itself reads nothing from the environment.
 */
import { parseConfig, port, url, z } from '@firefly/config';

const schema = z.object({
  /** Port of the development server `npm start` runs (Vite, with hot reload). */
  WEB_PORT: port(5173),
  /** Where the development server forwards /graphql (HTTP and graphql-ws) and /payments: the gateway. */
  WEB_GATEWAY_URL: url(['http', 'https'], 'http://127.0.0.1:4000'),
  /**
   * The GraphQL endpoint the built app calls, baked in at build time. Default: `/graphql` on the app's own origin
   * (a reverse proxy, or the development server, forwards it to the gateway). Set an absolute URL to call a gateway
   * on another origin (it must allow the app's origin in CORS_ORIGINS).
   */
  WEB_GRAPHQL_URL: z.string().default('/graphql'),
});

export type WebConfig = Readonly<z.infer<typeof schema>>;

export function loadWebConfig(env: Record<string, string | undefined> = process.env): WebConfig {
  return parseConfig(schema, env);
}
