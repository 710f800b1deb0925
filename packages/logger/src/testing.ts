import { createLogger, type Logger } from './index.ts';

/** What a {@link recordingLogger} was told: each info/warn line's level and message, in order. */
export interface Said {
  level: 'info' | 'warn';
  message: string;
}

/**
 * For tests: a silent logger that records its info and warn lines, for code whose outcome is only told in its log
 * (a start-up warm-up, say).
 */
export function recordingLogger(service: string): { logger: Logger; said: Said[] } {
  const said: Said[] = [];
  const logger = createLogger({ service, level: 'silent' });
  logger.info = ((_details: object, message: string) => void said.push({ level: 'info', message })) as Logger['info'];
  logger.warn = ((_details: object, message: string) => void said.push({ level: 'warn', message })) as Logger['warn'];
  return { logger, said };
}
