export * from './codes.ts';
export * from './app-error.ts';
export * from './format-error.ts';
export * from './validate.ts';
