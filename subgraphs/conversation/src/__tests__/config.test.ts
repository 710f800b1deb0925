import { describe, expect, it } from 'vitest';
import { ConfigError } from '@firefly/config';
import { loadConversationConfig, SIMULATOR_API_KEY, SIMULATOR_BASE_URL } from '../config.ts';

const SECRET = 'a-production-secret-that-is-long-enough-000';

describe('conversation config', () => {
  it('talks to the simulator when no DashScope key is set (development and tests)', () => {
    const config = loadConversationConfig({});
    expect(config.dashscope).toEqual({ mode: 'simulator', baseUrl: SIMULATOR_BASE_URL, apiKey: SIMULATOR_API_KEY, workspace: undefined });
    expect(config.MAX_CONCURRENT_GENERATIONS_PER_USER).toBe(3);
    expect(config.STREAM_RETENTION_SECONDS).toBe(3_600);
    expect(config.GENERATION_LEASE_SECONDS).toBe(15);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses the region endpoint with a key, unless a base URL is given', () => {
    expect(loadConversationConfig({ DASHSCOPE_API_KEY: 'sk-real', DASHSCOPE_REGION: 'ap-southeast-1', DASHSCOPE_WORKSPACE: 'llm-x' }).dashscope).toEqual({
      mode: 'live',
      baseUrl: 'https://dashscope-intl.aliyuncs.com/api/v1',
      apiKey: 'sk-real',
      workspace: 'llm-x',
    });
    expect(loadConversationConfig({ DASHSCOPE_API_KEY: 'sk-real', DASHSCOPE_BASE_URL: 'http://127.0.0.1:9/api/v1' }).dashscope.baseUrl).toBe('http://127.0.0.1:9/api/v1');
  });

  it('refuses the simulator, its key and plain HTTP in production', () => {
    const production = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: SECRET };
    expect(() => loadConversationConfig(production)).toThrow(/DASHSCOPE_API_KEY: must be set in production/);
    expect(() => loadConversationConfig({ ...production, DASHSCOPE_API_KEY: SIMULATOR_API_KEY })).toThrow(/simulator key/);
    expect(() => loadConversationConfig({ ...production, DASHSCOPE_API_KEY: 'sk-real', DASHSCOPE_BASE_URL: 'http://127.0.0.1:4010/api/v1' })).toThrow(/https/);
    expect(loadConversationConfig({ ...production, DASHSCOPE_API_KEY: 'sk-real' }).dashscope.mode).toBe('live');
  });

  it('names bad variables', () => {
    expect(() => loadConversationConfig({ MAX_CONCURRENT_GENERATIONS_PER_USER: '0' })).toThrow(ConfigError);
    expect(() => loadConversationConfig({ DASHSCOPE_REGION: 'mars' })).toThrow(/DASHSCOPE_REGION: expected cn-beijing or ap-southeast-1/);
    expect(() => loadConversationConfig({ GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '5' })).toThrow(/GENERATION_SWEEP_INTERVAL_SECONDS/);
  });
});
