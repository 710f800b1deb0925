export * from './identity.ts';
export * from './credential.ts';
