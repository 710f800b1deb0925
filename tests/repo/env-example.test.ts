import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knownVariables } from '@firefly/config';
import { loadGatewayConfig } from '@firefly/gateway';
import { loadUserConfig } from '../../subgraphs/user/src/config.ts';
import { loadConversationConfig } from '../../subgraphs/conversation/src/config.ts';
import { loadImageConfig } from '../../subgraphs/image/src/config.ts';
import { loadBillingConfig } from '../../subgraphs/billing/src/config.ts';
import { loadWebConfig } from '@firefly/web/config';
import { loadImageWorkerConfig } from '@firefly/image-worker';

/** Read by the simulators' own CLIs (simulators/<name>/src/main.ts), not by a service config. */
const SIMULATOR_VARIABLES = [
  'DASHSCOPE_SIMULATOR_PORT',
  'DASHSCOPE_SIMULATOR_HOST',
  'DASHSCOPE_SIMULATOR_TOKEN_DELAY_MS',
  'OSS_SIMULATOR_PORT',
  'OSS_SIMULATOR_HOST',
  'PAYMENT_SIMULATOR_PORT',
  'PAYMENT_SIMULATOR_HOST',
  'PAYMENT_SIMULATOR_PUBLIC_URL',
  'PAYMENT_SIMULATOR_KEYS_FILE',
  'PAYMENT_SIMULATOR_NOTIFY_RETRY_MS',
];

function documentedVariables(): Set<string> {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  return new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
}

describe('.env.example', () => {
  for (const load of [loadGatewayConfig, loadUserConfig, loadConversationConfig, loadImageConfig, loadImageWorkerConfig, loadBillingConfig, loadWebConfig]) load({});
  const documented = documentedVariables();

  it('documents every variable a process reads', () => {
    const missing = [...knownVariables].filter((name) => !documented.has(name)).sort();
    expect(missing).toEqual([]);
  });

  it('documents nothing that no process reads', () => {
    const unread = [...documented].filter((name) => !knownVariables.has(name) && !SIMULATOR_VARIABLES.includes(name)).sort();
    expect(unread).toEqual([]);
  });
});
