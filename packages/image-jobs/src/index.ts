export { createImageQueue, createQueueConnection, IMAGE_QUEUE_NAME, jobOptions, queuePrefix, type ImageQueue, type ImageQueuePayload, type ImageQueueSettings } from './queue.ts';
export { jobStreamKey, lastJobChangeId, latestJobStatus, progressReaderControlKey, publishJobChange, TERMINAL_STATUSES, type ImageJobStatus, type JobChange } from './progress.ts';
export { readImageFacts, type ImageFacts } from './image-bytes.ts';
