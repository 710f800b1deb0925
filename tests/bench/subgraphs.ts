// Bench helper process: the four subgraphs on the ports given in the environment, exactly as their main.ts
// files wire them, sharing one Prisma client. Prints "ready" when all four listen.
import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { buildUserSubgraph } from '@firefly/subgraph-user';
import { buildConversationSubgraph } from '@firefly/subgraph-conversation';
import { buildImageSubgraph } from '@firefly/subgraph-image';
import { buildBillingSubgraph } from '@firefly/subgraph-billing';

const env = process.env;
const logger = createLogger({ service: 'bench-subgraphs', level: 'warn' });
const db = createDb({ url: env.DATABASE_URL!, connectionLimit: 20 });
const common = { db, internalTokenSecret: env.INTERNAL_TOKEN_SECRET!, logger };
const servers = [
  [await buildUserSubgraph(common), Number(env.USER_SUBGRAPH_PORT)],
  [await buildConversationSubgraph(common), Number(env.CONVERSATION_SUBGRAPH_PORT)],
  [await buildImageSubgraph({ ...common, publicBaseUrl: 'http://127.0.0.1/files' }), Number(env.IMAGE_SUBGRAPH_PORT)],
  [await buildBillingSubgraph(common), Number(env.BILLING_SUBGRAPH_PORT)],
] as const;
for (const [server, port] of servers) await server.listen(port);
console.log('ready');
process.on('SIGTERM', async () => {
  for (const [server] of servers) await server.stop();
  await db.$disconnect();
  process.exit(0);
});
