import { commonShape, databaseShape, parseConfig, port, redisShape, refuseDevelopmentDefaults, z } from '@firefly/config';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  IMAGE_SUBGRAPH_PORT: port(4003),
  /** Public base URL under which stored images are served (local-disk driver). */
  IMAGE_PUBLIC_BASE_URL: z.string().default("http://127.0.0.1:4003/files"),
});

export type ImageConfig = ReturnType<typeof loadImageConfig>;

export function loadImageConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config);
  return config;
}
