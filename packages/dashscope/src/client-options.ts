import { Agent, type Dispatcher } from 'undici';
import type { DashScopeClientOptions } from './types.ts';

export interface ResolvedClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly workspace: string | undefined;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
}

export const CLIENT_DEFAULTS = {
  timeoutMs: 60_000,
  maxRetries: 2,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8_000,
} as const;

/** Fills defaults; {@link validateClientOptions} then checks the result. */
export function withClientDefaults(options: DashScopeClientOptions): ResolvedClientOptions {
  return {
    // A trailing slash would double up when we append `/services/...`.
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    apiKey: options.apiKey,
    workspace: options.workspace === '' ? undefined : options.workspace,
    timeoutMs: options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: options.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs ?? CLIENT_DEFAULTS.retryBaseDelayMs,
    retryMaxDelayMs: options.retryMaxDelayMs ?? CLIENT_DEFAULTS.retryMaxDelayMs,
    headers: options.headers ?? {},
    // undici's own timeouts off (0): the client's idle timeout (timeoutMs) is the one that governs, for headers
    // and between events alike; undici's 300 s defaults would cut a legitimately longer silence differently.
    dispatcher: options.dispatcher ?? new Agent({ headersTimeout: 0, bodyTimeout: 0 }),
  };
}

/** Throws a TypeError naming the offending option; messages never include the key itself. */
export function validateClientOptions(options: ResolvedClientOptions): ResolvedClientOptions {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`dashscope: baseUrl must be an absolute http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`dashscope: baseUrl must use http or https, got ${JSON.stringify(url.protocol)}`);
  }
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('dashscope: apiKey must be a non-empty string');
  }
  if (/[\r\n]/.test(options.apiKey) || (options.workspace !== undefined && /[\r\n]/.test(options.workspace))) {
    throw new TypeError('dashscope: apiKey and workspace must not contain line breaks');
  }
  assertNumber('timeoutMs', options.timeoutMs, 1);
  assertNumber('maxRetries', options.maxRetries, 0, true);
  assertNumber('retryBaseDelayMs', options.retryBaseDelayMs, 0);
  assertNumber('retryMaxDelayMs', options.retryMaxDelayMs, 0);
  if (typeof options.dispatcher?.request !== 'function') throw new TypeError('dashscope: dispatcher must be an undici Dispatcher');
  return options;
}

function assertNumber(name: string, value: number, min: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new TypeError(`dashscope: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(value)}`);
  }
}
