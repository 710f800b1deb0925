import type { Redis } from '@firefly/redis';
import type { Logger } from '@firefly/logger';

/**
 * Where registration books the sign-up grant: billing's internal `grantSignupCredits(userId)` (idempotent per
 * user), through `@firefly/credits-client`. Kept to this one method so the use case does not depend on the client.
 */
export interface SignupGrantPort {
  grantSignupCredits(input: { tenantId: string; userId: string; requestId?: string }): Promise<unknown>;
}

const PENDING_KEY = 'signup-grants:pending';

/**
 * Books the grant during registration; when billing cannot be reached the account is still created and the grant
 * is parked in a Redis sorted set that a background job (jobs/retry-signup-grants.ts) retries until billing
 * accepts it (safe: the grant is idempotent per user). Registration therefore never fails because billing is
 * briefly down, and no grant is lost.
 */
export function createSignupGrants(deps: { port: SignupGrantPort; redis: Redis; logger: Logger }) {
  /** Retries the parked grants that are due; one that fails again is parked for another minute. */
  async function retryPending(logger: Logger = deps.logger): Promise<void> {
    const due = await deps.redis.zrangebyscore(PENDING_KEY, 0, Date.now(), 'LIMIT', 0, 50);
    for (const member of due) {
      const [tenantId, userId] = member.split('|');
      if (!tenantId || !userId) {
        await deps.redis.zrem(PENDING_KEY, member);
        continue;
      }
      try {
        await deps.port.grantSignupCredits({ tenantId, userId });
        await deps.redis.zrem(PENDING_KEY, member);
        logger.info({ userId }, 'booked a postponed sign-up grant');
      } catch {
        await deps.redis.zadd(PENDING_KEY, Date.now() + 60_000, member);
      }
    }
  }

  return {
    async grant(input: { tenantId: string; userId: string; requestId: string }): Promise<void> {
      try {
        await deps.port.grantSignupCredits(input);
      } catch (error) {
        deps.logger.error({ err: error, userId: input.userId }, 'sign-up grant failed; parked for retry');
        await deps.redis.zadd(PENDING_KEY, Date.now() + 10_000, `${input.tenantId}|${input.userId}`);
      }
    },
    retryPending,
  };
}

export type SignupGrants = ReturnType<typeof createSignupGrants>;
