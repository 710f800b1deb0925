export { startDashScopeSimulator } from './simulator.ts';
export type { DashScopeSimulator, DashScopeSimulatorOptions, RecordedRequest, RequestOutcome } from './types.ts';
export { parseFaultSpec, type SimulatorEndpoint, type SimulatorFault, type SimulatorFaultKind } from './faults.ts';
export { composeReply, isChinese } from './reply.ts';
export { estimatePromptTokens, estimateTokens, MESSAGE_OVERHEAD_TOKENS, splitUnits } from './tokens.ts';
export { planAnswer, type AnswerPlan } from './answer-plan.ts';
export { readPngSize, renderPlaceholderPng } from './png.ts';
export { DEFAULT_IMAGE_MODELS } from './options.ts';
