import { requireUser } from '@firefly/auth';
import { notFound } from '@firefly/errors';
import { auditBy } from '@firefly/server-kit';
import type { Logger } from '@firefly/logger';
import { manifestRefused, parseManifest, sharedVersions, shareList, type PublishedList } from '@firefly/persisted-queries';
import type { Redis } from '@firefly/redis';
import type { UserDb } from '@firefly/db';
import { listVersions, readLists, type PersistedQueryListSummary } from '../data/persisted-query-lists.ts';
import type { UserScope } from './scope.ts';

/**
 * publishPersistedQueries (ADMIN; docs/partners.md, "Publishing a list"): checks the manifest (Apollo's format,
 * every id the sha256 of its body — the gateway has already checked every operation against the supergraph and the
 * document limits before the call reached us), replaces the partner's list (version + 1), then copies it to Redis
 * and announces it, which every gateway replica picks up within a second. A refused manifest changes nothing.
 * When Redis fails after the commit, the list is stored and the sync job (syncListsToRedis) copies it shortly.
 */
export async function publishPersistedQueries(scope: UserScope, input: { partnerId: string; manifest: unknown }): Promise<PersistedQueryListSummary> {
  const by = requireUser(scope.identity).userId;
  const parsed = parseManifest(input.manifest);
  if ('problems' in parsed) throw manifestRefused(parsed.problems);
  const [partner] = await scope.partners.findByIds([input.partnerId]);
  if (!partner) throw notFound('Partner');
  const list = await scope.persistedQueryLists.replace(partner.id, parsed.manifest.operations, auditBy(scope));
  scope.logger.info({ partnerId: list.partnerId, version: list.version, operationCount: list.operations.length, by }, 'persisted query list published');
  await share(scope.services.redis, scope.logger, list);
  return { id: list.partnerId, version: list.version, operationCount: list.operations.length, publishedAt: new Date(list.publishedAt) };
}

async function share(redis: Redis, logger: Logger, list: PublishedList): Promise<void> {
  try {
    await shareList(redis, list);
  } catch (error) {
    logger.error({ err: error, partnerId: list.partnerId, version: list.version }, 'persisted query list stored but not yet shared with the gateways; the sync job retries');
  }
}

/**
 * Copies into Redis every list MySQL holds in a newer version than Redis (after a publish whose copy failed, or a
 * Redis that lost its data), announcing each to the gateways. Returns how many it copied.
 */
export async function syncListsToRedis(db: UserDb, redis: Redis, logger: Logger): Promise<number> {
  const [stored, shared] = await Promise.all([listVersions(db), sharedVersions(redis)]);
  const behind = stored.filter(({ partnerId, version }) => (shared.get(partnerId) ?? 0) < version).map((row) => row.partnerId);
  if (behind.length === 0) return 0;
  let copied = 0;
  for (const list of await readLists(db, behind)) if (await shareList(redis, list)) copied++;
  if (copied > 0) logger.warn({ copied }, 'copied persisted query lists that Redis did not hold to Redis');
  return copied;
}

