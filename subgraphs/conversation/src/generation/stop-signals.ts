import type { Logger } from '@firefly/logger';
import { BLOCKING_CLIENT_OPTIONS, type Redis } from '@firefly/redis';
import type { StopSignals } from './ports.ts';
import { prefixedChannel, STOP_CHANNEL } from './redis-keys.ts';

/**
 * stopGeneration across replicas: the mutation may land on any replica, the DashScope request lives in one
 * process. Every replica listens on one channel and aborts the generation if it runs it. Pub/sub is at-most-once,
 * so the stop is also left in the generation's record, where the owner's next heartbeat finds it.
 */
export async function createStopSignals(options: { redis: Redis; logger: Logger; onStop: (messageId: string) => void }): Promise<StopSignals> {
  const { redis, logger } = options;
  const channel = prefixedChannel(redis.options.keyPrefix, STOP_CHANNEL);
  const subscriber = redis.duplicate({ ...BLOCKING_CLIENT_OPTIONS, connectionName: 'subgraph-conversation-stop-signals' });
  subscriber.on('message', (received: string, messageId: string) => {
    if (received === channel) options.onStop(messageId);
  });
  await subscriber.subscribe(channel);
  return {
    async publish(messageId: string): Promise<void> {
      await redis.publish(channel, messageId);
    },
    async close(): Promise<void> {
      try {
        await Promise.race([subscriber.quit(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
      } catch (error) {
        logger.debug({ err: error }, 'stop-signal subscriber did not quit cleanly');
      }
      subscriber.disconnect();
    },
  };
}
