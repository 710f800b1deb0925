export { MANIFEST_FORMAT, MAX_LIST_OPERATIONS, manifestRefused, operationId, parseManifest, type Manifest, type ManifestOperation, type OperationType } from './manifest.ts';
export { readSharedLists, sharedVersion, sharedVersions, shareList, subscribeToPublishedLists, type PublishedList } from './distribution.ts';
