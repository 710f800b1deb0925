export { createDashScopeClient, type CreateDashScopeClientOptions, type RetryEvent } from './client.ts';
export { CLIENT_DEFAULTS } from './client-options.ts';
export { createCompatibleChatClient, type CompatibleChatClient, type CompatibleChatClientOptions } from './compatible.ts';
export { DashScopeError, DashScopeErrorCode, isDashScopeError, type DashScopeErrorInit, type DashScopeErrorKind } from './errors.ts';
export { classifyUpstreamFailure, mapUpstreamError, parseRetryAfter, type UpstreamFailure } from './error-mapping.ts';
export { parseSseStream, parseSseText, SseParser, type SseEvent } from './sse-parser.ts';
export { backoffDelayMs } from './retry.ts';
export type {
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatRole,
  DashScopeClient,
  DashScopeClientOptions,
  FinishReason,
  TokenUsage,
} from './types.ts';
export {
  createDashScopeImageClient,
  type DashScopeImageClient,
  type DashScopeImageClientOptions,
  type ImageTaskRequest,
  type ImageTaskResult,
  type ImageTaskState,
  type ImageTaskStatus,
  type ListedImageTask,
} from './image-tasks.ts';
