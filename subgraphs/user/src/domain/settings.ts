import { DEFAULT_TENANT_ID, isAdmin, requireUser } from '@firefly/auth';
import { badUserInput, forbidden } from '@firefly/errors';
import { isSettingKey, SETTINGS } from '@firefly/platform-state';
import { auditBy } from '@firefly/server-kit';
import type { SettingRow } from '../data/settings.ts';
import type { UserScope } from './scope.ts';

function requirePlatformAdmin(scope: UserScope): void {
  requireUser(scope.identity);
  if (!isAdmin(scope.identity) || scope.tenantId !== DEFAULT_TENANT_ID) throw forbidden('System settings are managed by admins of the platform tenant only');
}

/** Every known setting, with the value set at run time (null: the environment's value applies). */
export async function listSettings(scope: UserScope): Promise<SettingRow[]> {
  requirePlatformAdmin(scope);
  const set = new Map((await scope.services.settings.list()).map((row) => [row.key, row]));
  return Object.keys(SETTINGS).map((key) => set.get(key) ?? { key, value: null, updatedAt: null });
}

/**
 * Sets a system setting (a whole number within its bounds), or unsets it with `value: null` so the environment's value
 * applies again; every process takes the change within 2 seconds, without a restart. Audited as `setSetting`.
 */
export async function setSetting(scope: UserScope, input: { key: string; value?: number | null }): Promise<SettingRow> {
  requirePlatformAdmin(scope);
  if (!isSettingKey(input.key)) throw badUserInput(`key must be one of: ${Object.keys(SETTINGS).join(', ')}`, { field: 'key' });
  const bounds = SETTINGS[input.key];
  const value = input.value ?? null;
  if (value !== null && (!Number.isInteger(value) || value < bounds.min || value > bounds.max)) {
    throw badUserInput(`${input.key} must be a whole number from ${bounds.min} to ${bounds.max}`, { field: 'value' });
  }
  const row = await scope.services.settings.set(input.key, value, { ...auditBy(scope), action: 'setSetting' });
  scope.logger.info({ key: input.key, value }, 'system setting changed');
  await scope.services.platformState.shareSettings().catch((error: unknown) => {
    scope.logger.error({ err: error }, 'sharing the settings failed; the sync job will retry');
  });
  return row;
}
