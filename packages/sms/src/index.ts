export * from './provider.ts';
export * from './aliyun-client.ts';
export * from './console-provider.ts';
export * from './config.ts';
export { acsEncode, canonicalQuery, parseAcs3Authorization } from './acs3.ts';
