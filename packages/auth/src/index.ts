export * from './identity.ts';
export * from './credential.ts';
export * from './access-token.ts';
export * from './refresh-token.ts';
