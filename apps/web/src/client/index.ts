export * from './apollo.ts';
export * from './errors.ts';
export * from './image-job.ts';
export * from './message-stream.ts';
export * from './resumable.ts';
export * from './session.ts';
export * from './persisted-ids.ts';
