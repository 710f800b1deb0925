import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';

/**
 * How state that MySQL owns reaches every process (docs/architecture.md, "Shared platform state"). The user
 * subgraph owns the rows; each change bumps the kind's revision (table StateRevision) in the transaction of the change.
 * After the commit it copies the whole state of that kind into Redis — `platform-state:<kind>` (JSON) and
 * `platform-state:<kind>:revision` — unless Redis already holds that revision or a newer one, and announces the
 * revision on the channel. Every process holds the state in memory (followSharedState): loaded on start, re-read when
 * the channel announces a newer revision (pub/sub: milliseconds), and compared with Redis's revision every
 * `recheckMs` as a backstop for an announcement it missed (a reconnect, a Redis restart). A revision never goes back.
 */
const CHANNEL = 'platform-state:changed';
const stateKey = (kind: string) => `platform-state:${kind}`;
const revisionKey = (kind: string) => `platform-state:${kind}:revision`;

/** ioredis prefixes keys but not pub/sub channels, so the channel carries the prefix explicitly. */
function channelOf(redis: Redis): string {
  return `${redis.options.keyPrefix ?? ''}${CHANNEL}`;
}

// Writes only when Redis holds an older revision (or none): copies written out of order (two replicas' changes, or a
// change racing the sync job) never put an older state back.
const WRITE_IF_NEWER = `
local current = tonumber(redis.call('GET', KEYS[2]) or '-1')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return 1
`;

/** A state and the revision it was read at. */
export interface SharedState<T> {
  revision: number;
  data: T;
}

/**
 * Copies a kind's state into Redis unless Redis holds this revision or a newer one, then announces it. The state must
 * have been read after the revision (so it holds at least every change up to it). Returns whether it was written.
 */
export async function shareState(redis: Redis, kind: string, state: SharedState<unknown>): Promise<boolean> {
  const written = (await redis.eval(WRITE_IF_NEWER, 2, stateKey(kind), revisionKey(kind), String(state.revision), JSON.stringify(state.data))) === 1;
  if (written) await redis.publish(channelOf(redis), JSON.stringify({ kind, revision: state.revision }));
  return written;
}

/** The revision of a kind in Redis; -1 when Redis holds none. */
export async function sharedRevision(redis: Redis, kind: string): Promise<number> {
  const raw = await redis.get(revisionKey(kind));
  return raw === null ? -1 : Number(raw);
}

async function readShared(redis: Redis, kind: string): Promise<SharedState<unknown> | undefined> {
  const [data, revision] = await redis.mget(stateKey(kind), revisionKey(kind));
  if (data == null || revision == null) return undefined;
  try {
    return { revision: Number(revision), data: JSON.parse(data) as unknown };
  } catch {
    return undefined;
  }
}

export interface SharedStateFollower<T> {
  /** The state held now: the last one loaded, or `initial` until one is. */
  current(): T;
  /** Revision of the state held; -1 before one was loaded. */
  readonly revision: number;
  /** Whether Redis was read at least once (readiness): with nothing there yet, `initial` is the state. */
  readonly loaded: boolean;
  /** Subscribes to announcements, then loads; a failed load is retried by the periodic check. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface FollowSharedStateOptions<T> {
  redis: Redis;
  kind: string;
  /** Turns what Redis holds into the state; throws on a shape it does not know (the state held is then kept). */
  parse: (data: unknown) => T;
  /** The state before any was loaded, and while Redis holds none (e.g. the user subgraph never ran). */
  initial: T;
  /** A connection of its own for SUBSCRIBE (closed on stop). */
  createSubscriber: () => Redis;
  closeSubscriber: (subscriber: Redis) => Promise<void>;
  logger: Logger;
  /** How often the revision is compared with Redis's, as a backstop for a missed announcement. Default 1,000 ms. */
  recheckMs?: number;
  /** Called after a newer state replaced the one held. */
  onChange?: (state: T, revision: number) => void;
}

/** Holds one kind of shared state in this process's memory, up to date within milliseconds (see above). */
export function followSharedState<T>(options: FollowSharedStateOptions<T>): SharedStateFollower<T> {
  const { redis, kind, logger } = options;
  let state = options.initial;
  let revision = -1;
  let loaded = false;
  let subscriber: Redis | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let loading: Promise<void> | undefined;

  const load = async () => {
    const shared = await readShared(redis, kind);
    loaded = true;
    if (!shared || shared.revision <= revision) return;
    let parsed: T;
    try {
      parsed = options.parse(shared.data);
    } catch (error) {
      logger.error({ err: error, kind, revision: shared.revision }, 'shared state: Redis holds a state this process cannot read; keeping the one held');
      return;
    }
    state = parsed;
    revision = shared.revision;
    logger.info({ kind, revision }, 'shared state loaded');
    options.onChange?.(state, revision);
  };
  // One load at a time; an announcement arriving during a load triggers one more after it.
  let again = false;
  const reload = (): Promise<void> => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = load().finally(() => {
      loading = undefined;
      if (again) {
        again = false;
        void reload().catch((error: unknown) => logger.warn({ err: error, kind }, 'shared state: reading Redis failed; the next check retries'));
      }
    });
    return loading;
  };

  const recheck = async () => {
    if ((await sharedRevision(redis, kind)) !== revision || !loaded) await reload();
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      recheck()
        .catch((error: unknown) => logger.warn({ err: error, kind }, 'shared state: comparing the revision with Redis failed'))
        .finally(schedule);
    }, options.recheckMs ?? 1_000);
    timer.unref();
  };
  const channel = channelOf(redis);
  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const event = JSON.parse(message) as { kind?: unknown; revision?: unknown };
      if (event.kind !== kind || typeof event.revision !== 'number' || event.revision <= revision) return;
    } catch {
      return;
    }
    reload().catch((error: unknown) => logger.warn({ err: error, kind }, 'shared state: reading an announced state failed; the next check retries'));
  };

  return {
    current: () => state,
    get revision() {
      return revision;
    },
    get loaded() {
      return loaded;
    },
    async start() {
      // Subscribe first, then load: a change announced in between is announced to us, or already in what we load.
      subscriber = options.createSubscriber();
      subscriber.on('message', onMessage);
      try {
        await subscriber.subscribe(channel);
        await reload();
      } catch (error) {
        logger.error({ err: error, kind }, 'shared state: loading from Redis failed; retrying');
      }
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (subscriber) {
        subscriber.off('message', onMessage);
        await subscriber.unsubscribe(channel).catch(() => undefined);
        await options.closeSubscriber(subscriber);
      }
    },
  };
}
