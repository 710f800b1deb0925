// What a person is told for each error the API can answer with: never a raw code.
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { describe, expect, it } from 'vitest';
import { describeError, describeFailedImageJob, describeFailedMessage } from '../errors.ts';

const graphQLError = (code: string, extensions: Record<string, unknown> = {}, message = 'raw server text') =>
  new CombinedGraphQLErrors({ data: null, errors: [{ message, extensions: { code, ...extensions } }] });

describe('describeError', () => {
  it('names the codes a person can act on', () => {
    expect(describeError(graphQLError('INSUFFICIENT_CREDITS'))).toEqual({ kind: 'insufficientCredits' });
    expect(describeError(graphQLError('RATE_LIMITED', { retryAfterSeconds: 12.2 }))).toEqual({ kind: 'rateLimited', retryAfterSeconds: 13 });
    expect(describeError(graphQLError('CONTENT_REJECTED'))).toEqual({ kind: 'contentRejected' });
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { service: 'image' }))).toEqual({ kind: 'upstreamUnavailable', service: 'painting' });
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { service: 'something-new' }))).toEqual({ kind: 'upstreamUnavailable', service: 'unknown' });
    expect(describeError(graphQLError('NOT_IMPLEMENTED'))).toEqual({ kind: 'notImplemented' });
  });

  it('says which payment channel or store is down when the server names it', () => {
    // billing names the channel of a failed payment call rather than a service
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { channel: 'ALIPAY', providerCode: 'SYSTEM_ERROR' }))).toEqual({ kind: 'upstreamUnavailable', service: 'alipay' });
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { channel: 'WECHAT' }))).toEqual({ kind: 'upstreamUnavailable', service: 'wechatpay' });
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { service: 'mysql' }))).toEqual({ kind: 'upstreamUnavailable', service: 'database' });
    expect(describeError(graphQLError('UPSTREAM_UNAVAILABLE', { service: 'dashscope' }))).toEqual({ kind: 'upstreamUnavailable', service: 'ai' });
  });

  it('keeps the server sentence only for BAD_USER_INPUT, which is written for people', () => {
    expect(describeError(graphQLError('BAD_USER_INPUT', {}, 'Password must be at least 8 characters'))).toEqual({ kind: 'badInput', message: 'Password must be at least 8 characters' });
    expect(describeError(graphQLError('INTERNAL_SERVER_ERROR'))).toEqual({ kind: 'unknown' });
  });

  it('reads codes from a non-2xx HTTP answer too, and its Retry-After', () => {
    const body = JSON.stringify({ errors: [{ message: 'x', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 } }] });
    const response = new Response(body, { status: 429, headers: { 'retry-after': '3' } });
    expect(describeError(new ServerError('429', { response, bodyText: body }))).toEqual({ kind: 'rateLimited', retryAfterSeconds: 3 });
    const html = new Response('<html>', { status: 502 });
    expect(describeError(new ServerError('502', { response: html, bodyText: '<html>' }))).toEqual({ kind: 'upstreamUnavailable', service: 'gateway' });
  });

  it('calls a failed fetch a network problem', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toEqual({ kind: 'network' });
  });
});

describe('describeFailedMessage', () => {
  // The codes the conversation subgraph stores on a FAILED answer (Message.errorCode).
  it('reads a failed answer from its error code', () => {
    expect(describeFailedMessage('CONTENT_REJECTED')).toBe('contentRejected');
    expect(describeFailedMessage('RATE_LIMITED')).toBe('modelBusy');
    expect(describeFailedMessage('UPSTREAM_UNAVAILABLE')).toBe('modelUnavailable');
    expect(describeFailedMessage('BAD_USER_INPUT')).toBe('modelRefused');
    expect(describeFailedMessage('TIMED_OUT')).toBe('timedOut');
    expect(describeFailedMessage('INTERRUPTED')).toBe('interrupted');
  });

  it('treats our own failure, a missing code and a code newer than this build as a failure without a known reason', () => {
    expect(describeFailedMessage('INTERNAL_SERVER_ERROR')).toBe('unknown');
    expect(describeFailedMessage(null)).toBe('unknown');
    expect(describeFailedMessage('SOMETHING_NEW')).toBe('unknown');
    // Never read from the English sentence any more.
    expect(describeFailedMessage('The message was rejected by content moderation.')).toBe('unknown');
  });
});

describe('describeFailedImageJob', () => {
  it('names the service an unavailable job failed on (errorService), the image generation service by default', () => {
    expect(describeFailedImageJob({ errorCode: 'UPSTREAM_UNAVAILABLE', errorService: 'dashscope' })).toEqual({ kind: 'upstreamUnavailable', service: 'imageGeneration' });
    expect(describeFailedImageJob({ errorCode: 'UPSTREAM_UNAVAILABLE', errorService: 'oss' })).toEqual({ kind: 'upstreamUnavailable', service: 'storage' });
    expect(describeFailedImageJob({ errorCode: 'UPSTREAM_UNAVAILABLE', errorService: 'image-worker' })).toEqual({ kind: 'upstreamUnavailable', service: 'painting' });
    expect(describeFailedImageJob({ errorCode: 'UPSTREAM_UNAVAILABLE', errorService: null })).toEqual({ kind: 'upstreamUnavailable', service: 'imageGeneration' });
    expect(describeFailedImageJob({ errorCode: 'CONTENT_REJECTED' })).toEqual({ kind: 'contentRejected' });
    expect(describeFailedImageJob({ errorCode: 'INTERNAL_SERVER_ERROR' })).toBeUndefined();
  });
});
