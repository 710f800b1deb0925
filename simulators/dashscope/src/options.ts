import type { SimulatorFault } from './faults.ts';
import type { DashScopeSimulatorOptions } from './types.ts';

export const DEFAULT_IMAGE_MODELS = [
  'wanx-v1',
  'wanx2.0-t2i-turbo',
  'wanx2.1-t2i-turbo',
  'wanx2.1-t2i-plus',
  'wan2.1-t2i-turbo',
  'wan2.1-t2i-plus',
  'wan2.2-t2i-flash',
  'wan2.2-t2i-plus',
  'wan2.5-t2i-preview',
] as const;

export interface ResolvedSimulatorOptions {
  readonly port: number;
  readonly host: string;
  readonly apiKeys: readonly string[];
  readonly tokenDelayMs: number;
  readonly firstTokenDelayMs: number;
  readonly minDeltas: number;
  readonly writeChunkBytes: number | undefined;
  readonly faults: readonly SimulatorFault[];
  readonly inspectionTriggers: readonly string[];
  readonly outputInspectionTriggers: readonly string[];
  readonly chatModels: readonly string[] | undefined;
  readonly imageModels: readonly string[];
  readonly maxInputTokens: number;
  readonly taskPendingMs: number;
  readonly taskRunningMs: number;
  readonly maxConcurrentTasksPerModel: number;
  readonly resultTtlMs: number;
  readonly publicUrl: string | undefined;
  readonly unknownPath: { readonly status: number; readonly code: string };
  readonly maxRecordedRequests: number;
}

/** Fills defaults (documented on {@link DashScopeSimulatorOptions}); {@link validateSimulatorOptions} checks them. */
export function withSimulatorDefaults(options: DashScopeSimulatorOptions): ResolvedSimulatorOptions {
  const tokenDelayMs = options.tokenDelayMs ?? 30;
  return {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    apiKeys: typeof options.apiKey === 'string' ? [options.apiKey] : (options.apiKey ?? ['sk-simulator']),
    tokenDelayMs,
    firstTokenDelayMs: options.firstTokenDelayMs ?? tokenDelayMs,
    minDeltas: options.minDeltas ?? 20,
    writeChunkBytes: options.writeChunkBytes,
    faults: options.faults ?? [],
    inspectionTriggers: options.inspectionTriggers ?? ['sim:inspection', '模拟审核失败'],
    outputInspectionTriggers: options.outputInspectionTriggers ?? ['sim:output-inspection', '模拟输出审核失败'],
    chatModels: options.chatModels,
    imageModels: options.imageModels ?? DEFAULT_IMAGE_MODELS,
    maxInputTokens: options.maxInputTokens ?? 1_000_000,
    taskPendingMs: options.taskPendingMs ?? 1000,
    taskRunningMs: options.taskRunningMs ?? 3000,
    maxConcurrentTasksPerModel: options.maxConcurrentTasksPerModel ?? 2,
    resultTtlMs: options.resultTtlMs ?? 86_400_000,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    unknownPath: options.unknownPath ?? { status: 404, code: 'NotFound' },
    maxRecordedRequests: options.maxRecordedRequests ?? 1000,
  };
}

export function validateSimulatorOptions(options: ResolvedSimulatorOptions): ResolvedSimulatorOptions {
  const nonNegative: (keyof ResolvedSimulatorOptions)[] = [
    'port',
    'tokenDelayMs',
    'firstTokenDelayMs',
    'minDeltas',
    'maxInputTokens',
    'taskPendingMs',
    'taskRunningMs',
    'maxConcurrentTasksPerModel',
    'resultTtlMs',
    'maxRecordedRequests',
  ];
  for (const key of nonNegative) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`dashscope simulator: ${key} must be a number >= 0, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(options.port) || options.port > 65_535) throw new TypeError(`dashscope simulator: port must be an integer 0-65535, got ${options.port}`);
  if (options.apiKeys.length === 0 || options.apiKeys.some((k) => typeof k !== 'string' || k === '')) {
    throw new TypeError('dashscope simulator: apiKey must be a non-empty string (or a list of them)');
  }
  if (options.writeChunkBytes !== undefined && (!Number.isInteger(options.writeChunkBytes) || options.writeChunkBytes < 1)) {
    throw new TypeError(`dashscope simulator: writeChunkBytes must be an integer >= 1, got ${options.writeChunkBytes}`);
  }
  return options;
}
