import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths redacted in every log line. Authorization headers, tokens, passwords, SMS codes, phone numbers, email
 * addresses (and `login`, which is one or the other) and payment keys must never reach log storage.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-firefly-credential"]',
  'headers.authorization',
  'headers["x-firefly-credential"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
  '*.credential',
  '*.smsCode',
  '*.phone',
  '*.email',
  '*.login',
  '*.secret',
  '*.privateKey',
  '*.apiKey',
  'password',
  'accessToken',
  'refreshToken',
  'phone',
  'email',
  'login',
  'smsCode',
];

export interface CreateLoggerOptions {
  /** Service name bound to every line, e.g. `gateway`, `subgraph-user`. */
  service: string;
  /** Default `info`. */
  level?: LoggerOptions['level'];
  /** Human-readable single-line output for development. Default false (JSON). */
  pretty?: boolean;
  /** Where lines go. Default stdout. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

/** The one root logger of a process; request handlers use `logger.child({ requestId })`. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const base: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) return pino(base, prettyStream(options.service));
  return pino(base);
}

/** A dependency-free compact formatter: `HH:MM:SS level msg {fields}`. */
function prettyStream(service: string): DestinationStream {
  return {
    write(line: string) {
      try {
        const { time, level, msg, service: _s, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const clock = typeof time === 'string' ? time.slice(11, 19) : '';
        const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
        process.stdout.write(`${clock} ${String(level).padEnd(5)} [${service}] ${String(msg ?? '')}${fields}\n`);
      } catch {
        process.stdout.write(line);
      }
    },
  };
}

/** Masks a mainland phone number for logs and for other users: 13800000000 → 138****0000. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/^\+?86/, '');
  if (digits.length < 7) return '****';
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}
