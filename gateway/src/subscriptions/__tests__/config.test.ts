import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, parseSubgraphWsUrls } from '../../config.ts';

describe('subscription configuration', () => {
  it('has production-ready defaults', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      SUBSCRIPTION_KEEPALIVE_MS: 12_000,
      SUBSCRIPTION_CONNECTION_INIT_TIMEOUT_MS: 3_000,
      SUBSCRIPTION_MAX_PER_CONNECTION: 20,
      SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: 10,
      SUBSCRIPTION_MAX_ACTIVE: 20_000,
      SUBSCRIPTION_MAX_QUEUED_EVENTS: 1_000,
      SUBSCRIPTION_LATEST_STATE_FIELDS: 'imageJobUpdated',
      SUBSCRIPTION_AUTH_RECHECK_SECONDS: 60,
      SUBSCRIPTION_UPSTREAM_KEEPALIVE_MS: 10_000,
      SUBSCRIPTION_UPSTREAM_CONNECT_TIMEOUT_MS: 5_000,
      SUBSCRIPTION_SUBGRAPH_WS_URLS: '',
    });
  });

  it('parses graphql-ws URL overrides and names the variable when one is malformed', () => {
    const config = loadGatewayConfig({ SUBSCRIPTION_SUBGRAPH_WS_URLS: 'conversation=ws://chat:4002/graphql, image=wss://img.internal/graphql' });
    expect(parseSubgraphWsUrls(config.SUBSCRIPTION_SUBGRAPH_WS_URLS)).toEqual(
      new Map([
        ['conversation', 'ws://chat:4002/graphql'],
        ['image', 'wss://img.internal/graphql'],
      ]),
    );
    expect(() => loadGatewayConfig({ SUBSCRIPTION_SUBGRAPH_WS_URLS: 'conversation=http://chat:4002/graphql' })).toThrow(/SUBSCRIPTION_SUBGRAPH_WS_URLS/);
    expect(() => loadGatewayConfig({ SUBSCRIPTION_MAX_PER_CONNECTION: '0' })).toThrow(/SUBSCRIPTION_MAX_PER_CONNECTION/);
  });
});
