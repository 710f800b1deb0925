import { commonShape, databaseShape, parseConfig, port, redisShape, refuseDevelopmentDefaults, z } from '@firefly/config';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  USER_SUBGRAPH_PORT: port(4001),
});

export type UserConfig = ReturnType<typeof loadUserConfig>;

export function loadUserConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config);
  return config;
}
