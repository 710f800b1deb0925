import { commonShape, databaseShape, parseConfig, port, redisShape, refuseDevelopmentDefaults, z } from '@firefly/config';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  CONVERSATION_SUBGRAPH_PORT: port(4002),
});

export type ConversationConfig = ReturnType<typeof loadConversationConfig>;

export function loadConversationConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config);
  return config;
}
