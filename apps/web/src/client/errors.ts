/**
 * Turns whatever an operation failed with into something a person can act on. The UI shows `UserFacingError`s
 * only — never a raw code, message from a server internals or a stack.
 */
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import type { GraphQLFormattedError } from 'graphql';

/** A service named by UPSTREAM_UNAVAILABLE's `extensions.service`, in the words the UI uses. */
export type ServiceName = 'chat' | 'painting' | 'imageGeneration' | 'billing' | 'accounts' | 'sms' | 'ai' | 'storage' | 'payments' | 'alipay' | 'wechatpay' | 'database' | 'gateway' | 'unknown';

export type UserFacingError =
  | { kind: 'insufficientCredits' }
  | { kind: 'rateLimited'; retryAfterSeconds: number }
  | { kind: 'contentRejected' }
  | { kind: 'upstreamUnavailable'; service: ServiceName }
  | { kind: 'unauthenticated' }
  | { kind: 'forbidden' }
  | { kind: 'notFound' }
  | { kind: 'conflict' }
  /** The server does not offer this yet (NOT_IMPLEMENTED): e.g. painting or payments before they are switched on. */
  | { kind: 'notImplemented' }
  /** The server explained what was wrong with the input; its message is written for people (BAD_USER_INPUT). */
  | { kind: 'badInput'; message: string }
  | { kind: 'network' }
  | { kind: 'unknown' };

/** The GraphQL errors inside an Apollo error, whether they came as a GraphQL result or a non-2xx HTTP body. */
export function graphQLErrorsOf(error: unknown): readonly GraphQLFormattedError[] {
  if (CombinedGraphQLErrors.is(error)) return error.errors;
  if (ServerError.is(error)) {
    try {
      const body = JSON.parse(error.bodyText) as { errors?: GraphQLFormattedError[] };
      if (Array.isArray(body.errors)) return body.errors;
    } catch {
      // Not a GraphQL body (a proxy's HTML page, say): no codes to read.
    }
  }
  if (Array.isArray((error as { errors?: unknown })?.errors)) return (error as { errors: GraphQLFormattedError[] }).errors;
  return [];
}

export function errorCodeOf(error: unknown): string | undefined {
  for (const e of graphQLErrorsOf(error)) {
    const code = e.extensions?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function isUnauthenticated(error: unknown): boolean {
  return errorCodeOf(error) === 'UNAUTHENTICATED' || (ServerError.is(error) && error.statusCode === 401 && graphQLErrorsOf(error).length === 0);
}

const SERVICES: Record<string, ServiceName> = {
  conversation: 'chat',
  image: 'painting',
  'image-worker': 'painting',
  billing: 'billing',
  user: 'accounts',
  sms: 'sms',
  dashscope: 'ai',
  oss: 'storage',
  alipay: 'alipay',
  wechat: 'wechatpay',
  wechatpay: 'wechatpay',
  payments: 'payments',
  mysql: 'database',
  redis: 'gateway',
  gateway: 'gateway',
};

/**
 * The service a FAILED image job names in `errorService` (UPSTREAM_UNAVAILABLE), in the UI's words: DashScope is the
 * image generation service here, the image worker the painting service itself.
 */
const IMAGE_JOB_SERVICES: Record<string, ServiceName> = {
  dashscope: 'imageGeneration',
  oss: 'storage',
  billing: 'billing',
  'image-worker': 'painting',
};

/** Why a FAILED image job failed, from its `errorCode` and `errorService`. */
export function describeFailedImageJob(job: { errorCode?: string | null; errorService?: string | null }): UserFacingError | undefined {
  switch (job.errorCode) {
    case 'CONTENT_REJECTED':
      return { kind: 'contentRejected' };
    case 'UPSTREAM_UNAVAILABLE':
      // A job failed before the service was recorded was failed by the image generation service most of the time.
      return { kind: 'upstreamUnavailable', service: IMAGE_JOB_SERVICES[job.errorService ?? ''] ?? 'imageGeneration' };
    default:
      return undefined;
  }
}

/** A payment channel's failure names the channel (`extensions.channel`: ALIPAY, WECHAT) rather than a service. */
const CHANNELS: Record<string, ServiceName> = { ALIPAY: 'alipay', WECHAT: 'wechatpay' };

function serviceOf(extensions: GraphQLFormattedError['extensions']): ServiceName {
  return SERVICES[String(extensions?.service ?? '')] ?? CHANNELS[String(extensions?.channel ?? '')] ?? 'unknown';
}

export function describeError(error: unknown): UserFacingError {
  const errors = graphQLErrorsOf(error);
  const first = errors.find((e) => typeof e.extensions?.code === 'string') ?? errors[0];
  const code = first?.extensions?.code;
  switch (code) {
    case 'INSUFFICIENT_CREDITS':
      return { kind: 'insufficientCredits' };
    case 'RATE_LIMITED': {
      const seconds = Number(first?.extensions?.retryAfterSeconds);
      return { kind: 'rateLimited', retryAfterSeconds: Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1 };
    }
    case 'CONTENT_REJECTED':
      return { kind: 'contentRejected' };
    case 'UPSTREAM_UNAVAILABLE':
      return { kind: 'upstreamUnavailable', service: serviceOf(first?.extensions) };
    case 'UNAUTHENTICATED':
      return { kind: 'unauthenticated' };
    case 'FORBIDDEN':
      return { kind: 'forbidden' };
    case 'NOT_FOUND':
      return { kind: 'notFound' };
    case 'CONFLICT':
      return { kind: 'conflict' };
    case 'NOT_IMPLEMENTED':
      return { kind: 'notImplemented' };
    case 'BAD_USER_INPUT':
      return first?.message ? { kind: 'badInput', message: first.message } : { kind: 'unknown' };
    default:
      break;
  }
  if (ServerError.is(error)) {
    if (error.statusCode === 429) return { kind: 'rateLimited', retryAfterSeconds: Number(error.response.headers.get('retry-after')) || 1 };
    if (error.statusCode === 401) return { kind: 'unauthenticated' };
    return error.statusCode >= 500 ? { kind: 'upstreamUnavailable', service: 'gateway' } : { kind: 'unknown' };
  }
  if (errors.length === 0 && error instanceof Error) return { kind: 'network' };
  return { kind: 'unknown' };
}

/** Why an answer FAILED, as the chat says it (the message's `errorCode`, stored by the conversation subgraph). */
export type MessageFailure =
  /** Content moderation refused the question or cut the answer. */
  | 'contentRejected'
  /** The AI model provider was too busy (throttled). */
  | 'modelBusy'
  /** The AI model provider failed or could not be reached. */
  | 'modelUnavailable'
  /** The AI model provider refused the request as invalid. */
  | 'modelRefused'
  /** The answer took too long and was cut off (the text so far is kept). */
  | 'timedOut'
  /** The server writing the answer stopped (the text so far is kept). */
  | 'interrupted'
  | 'unknown';

const MESSAGE_FAILURES: Record<string, MessageFailure> = {
  CONTENT_REJECTED: 'contentRejected',
  RATE_LIMITED: 'modelBusy',
  UPSTREAM_UNAVAILABLE: 'modelUnavailable',
  BAD_USER_INPUT: 'modelRefused',
  TIMED_OUT: 'timedOut',
  INTERRUPTED: 'interrupted',
};

/**
 * Why an answer FAILED, from the message's stable `errorCode` (Message.errorCode). An unknown or missing code
 * (INTERNAL_SERVER_ERROR, a code added after this build) is a failure without a known reason.
 */
export function describeFailedMessage(errorCode: string | null | undefined): MessageFailure {
  return (errorCode && MESSAGE_FAILURES[errorCode]) || 'unknown';
}
