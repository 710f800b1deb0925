// @firefly/platform-state: tenants and system settings, owned by MySQL (user subgraph), shared with every process
// through Redis and held in memory (docs/architecture.md, "Shared platform state").
export { followSharedState, sharedRevision, shareState, type FollowSharedStateOptions, type SharedState, type SharedStateFollower } from './shared-state.ts';
export { EMPTY_TENANT_DIRECTORY, parseTenantDirectory, tenantDirectoryData, TENANTS_STATE, type TenantDirectory, type TenantRoute, type TenantStatus } from './tenants.ts';
export { followSettings, isSettingKey, parseSettings, SETTINGS, SETTINGS_STATE, type RuntimeSettings, type SettingKey, type SettingValues } from './settings.ts';
