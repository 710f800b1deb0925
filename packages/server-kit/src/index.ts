export * from './server.ts';
export * from './context.ts';
export * from './access.ts';
export * from './loaders.ts';
export * from './pagination.ts';
export * from './process.ts';
export * from './metrics.ts';
export * from './scalars.ts';
