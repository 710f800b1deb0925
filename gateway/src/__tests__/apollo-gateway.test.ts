import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * apollo-gateway.ts loads `@apollo/gateway` over copies of `@apollo/federation-internals` and `@apollo/query-planner`
 * whose exports are plain values instead of re-export getters (the result shaping of every answer reads them). Checked in a fresh process:
 * a test worker may have loaded `@apollo/gateway` already, which the module then leaves as it is.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const check = `
  const { ApolloGateway, buildOperationContext, executeQueryPlan } = await import('./gateway/src/apollo-gateway.ts');
  const { createRequire } = await import('node:module');
  const fromGateway = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
  const internals = fromGateway('@apollo/federation-internals');
  const names = Object.keys(internals);
  const planner = fromGateway('@apollo/query-planner');
  const plannerNames = Object.keys(planner);
  console.log(JSON.stringify({
    names: names.length,
    getters: names.filter((name) => 'get' in Object.getOwnPropertyDescriptor(internals, name)).length,
    esModule: internals.__esModule,
    plannerNames: plannerNames.length,
    plannerGetters: plannerNames.filter((name) => 'get' in Object.getOwnPropertyDescriptor(planner, name)).length,
    plannerFunctions: [typeof planner.getResponseName, typeof planner.evaluateCondition, typeof planner.QueryPlanner],
    exported: [typeof ApolloGateway, typeof buildOperationContext, typeof executeQueryPlan],
  }));
`;

describe('the gateway’s @apollo/gateway', () => {
  it('reads @apollo/federation-internals and @apollo/query-planner through plain properties, with every export there', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', check], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!) as {
      names: number;
      getters: number;
      esModule: boolean;
      plannerNames: number;
      plannerGetters: number;
      plannerFunctions: string[];
      exported: string[];
    };
    expect(result.names).toBeGreaterThan(200);
    expect(result.getters).toBe(0);
    expect(result.esModule).toBe(true);
    expect(result.plannerNames).toBeGreaterThan(10);
    expect(result.plannerGetters).toBe(0);
    expect(result.plannerFunctions).toEqual(['function', 'function', 'function']);
    expect(result.exported).toEqual(['function', 'function', 'function']);
  });
});
