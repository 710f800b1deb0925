export { OSS_SIMULATOR, ossProductionProblems, ossShape, resolveOssTarget, type OssTarget } from './config.ts';
export { createObjectStorage, type ObjectStorage, type StoredObjectInfo, type UploadGrant } from './storage.ts';
