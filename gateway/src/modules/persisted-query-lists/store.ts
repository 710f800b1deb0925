import type { Logger } from '@firefly/logger';
import { readSharedLists, sharedVersion, sharedVersions, subscribeToPublishedLists, type ManifestOperation, type PublishedList } from '@firefly/persisted-queries';
import type { Redis } from '@firefly/redis';

/** A partner's list as the gateway looks operations up in it: by id, and by exact body. */
export interface HeldList {
  version: number;
  byId: ReadonlyMap<string, ManifestOperation>;
  byBody: ReadonlyMap<string, ManifestOperation>;
}

export interface PersistedQueryListStore {
  /** The partner's list, or undefined when it has none (every operation is then refused). */
  get(partnerId: string): HeldList | undefined;
  /**
   * The partner's list after asking Redis whether a newer version exists (and loading it): for a request the list in
   * memory refuses, which may name an operation published a moment ago whose announcement has not arrived yet.
   */
  refresh(partnerId: string): Promise<HeldList | undefined>;
  /** Follows publications and loads every list from Redis (retried in the background when Redis fails). */
  start(): Promise<void>;
  /** The version of every list held, by partner id (the version metric). */
  versions(): IterableIterator<[partnerId: string, version: number]>;
  /** Whether the lists were loaded (readiness). */
  readonly loaded: boolean;
  stop(): Promise<void>;
}

export interface PersistedQueryListStoreOptions {
  redis: Redis;
  /** A connection of its own for SUBSCRIBE (closed on stop). */
  createSubscriber: () => Redis;
  closeSubscriber: (subscriber: Redis) => Promise<void>;
  logger: Logger;
  /** How often the versions are compared with Redis, as a backstop for a missed announcement. */
  recheckMs: number;
}

/**
 * Every partner's persisted query list in this replica's memory: loaded from Redis on start, replaced when the user
 * subgraph announces a publication (Redis pub/sub; a publish reaches every replica within a second), and checked
 * against Redis's versions every `recheckMs` in case an announcement was missed. A version never goes back.
 */
export function createPersistedQueryListStore(options: PersistedQueryListStoreOptions): PersistedQueryListStore {
  const { redis, logger } = options;
  const lists = new Map<string, HeldList>();
  let loaded = false;
  let subscriber: Redis | undefined;
  let subscription: { close(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const hold = (list: PublishedList) => {
    const held = lists.get(list.partnerId);
    if (held && held.version >= list.version) return;
    const byId = new Map<string, ManifestOperation>();
    const byBody = new Map<string, ManifestOperation>();
    for (const operation of list.operations) {
      byId.set(operation.id, operation);
      byBody.set(operation.body, operation);
    }
    lists.set(list.partnerId, { version: list.version, byId, byBody });
    logger.info({ partnerId: list.partnerId, version: list.version, operationCount: byId.size }, 'persisted query list loaded');
  };

  const refresh = async (partnerIds: string[]) => {
    for (const list of await readSharedLists(redis, partnerIds)) hold(list);
  };

  const recheck = async () => {
    const versions = await sharedVersions(redis);
    const newer = [...versions].filter(([partnerId, version]) => (lists.get(partnerId)?.version ?? 0) < version).map(([partnerId]) => partnerId);
    if (newer.length > 0) await refresh(newer);
    loaded = true;
  };

  const scheduleRecheck = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      recheck()
        .catch((error: unknown) => logger.warn({ err: error }, 'persisted query lists: comparing versions with Redis failed'))
        .finally(scheduleRecheck);
    }, options.recheckMs);
    timer.unref();
  };

  return {
    get: (partnerId) => lists.get(partnerId),
    *versions() {
      for (const [partnerId, list] of lists) yield [partnerId, list.version];
    },
    async refresh(partnerId) {
      if ((await sharedVersion(redis, partnerId)) > (lists.get(partnerId)?.version ?? 0)) await refresh([partnerId]);
      return lists.get(partnerId);
    },
    get loaded() {
      return loaded;
    },
    async start() {
      // Subscribe first, then load: a list published in between is announced to us, or already in what we load.
      subscriber = options.createSubscriber();
      subscription = await subscribeToPublishedLists(subscriber, (partnerId) => {
        refresh([partnerId]).catch((error: unknown) => logger.warn({ err: error, partnerId }, 'persisted query lists: reading a published list failed; the next version check retries'));
      });
      try {
        await recheck();
      } catch (error) {
        // Not ready until a later check loads them: partner requests are refused meanwhile, nothing else is affected.
        logger.error({ err: error }, 'persisted query lists: loading from Redis failed; retrying');
      }
      scheduleRecheck();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await subscription?.close();
      if (subscriber) await options.closeSubscriber(subscriber);
    },
  };
}
