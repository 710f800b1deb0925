import { createRequire } from 'node:module';
import type * as ApolloGatewayModule from '@apollo/gateway';

/**
 * `@apollo/gateway`, loaded after its copy of `@apollo/federation-internals` has plain export properties.
 *
 * `@apollo/federation-internals` is TypeScript compiled to CommonJS: its index re-exports ~300 names of its files
 * as getters (`get: function () { return m[k]; }`), so every `federation_internals_1.isListType(…)` the gateway's
 * result shaping makes — several per field of every answer — is a getter call V8 does not inline on an object that
 * large. The bench's profile put that getter alone at 4.3 % of the gateway's CPU. Once the package is loaded (and its
 * exports final), its entry in the CommonJS module cache is replaced by an object holding the same values as data
 * properties, and `@apollo/gateway` is required after that, so its modules bind to that object. Values are the same
 * objects (classes, functions, constants), so nothing changes but the lookup.
 *
 * Loaded with `require` at run time on purpose: the production bundle (scripts/bundle.mjs) hoists static imports of
 * npm packages above all of our code, which would load `@apollo/gateway` first. Should it already be loaded (a test
 * importing it earlier), it keeps the getters and works as before.
 *
 * `@apollo/query-planner` gets the same treatment (after federation-internals, so when loaded here it binds to the
 * flat copy): the gateway's `executeSelectionSet` calls its re-exported `getResponseName` for every field of every
 * entity representation it builds, and `evaluateCondition` for every condition node. In the production bundle the
 * planner is already loaded by then (subscriptions/planner.ts imports it statically); its own modules keep the
 * getters (planning, once per operation and cached), the gateway's view of it is flat.
 */
const require = createRequire(import.meta.url);

/** Replaces the CommonJS cache entry of `name` (as `@apollo/gateway` resolves it) by its exports as data properties. */
function flattenExports(gatewayRequire: NodeJS.Require, name: string): void {
  const path = gatewayRequire.resolve(name);
  const loaded = gatewayRequire(name) as Record<string, unknown>;
  const entry = require.cache[path];
  if (!entry || entry.exports !== loaded) return;
  const flat: Record<string, unknown> = {};
  Object.defineProperty(flat, '__esModule', { value: true });
  for (const key of Object.keys(loaded)) flat[key] = loaded[key];
  entry.exports = flat;
}

const gatewayRequire = createRequire(require.resolve('@apollo/gateway'));
flattenExports(gatewayRequire, '@apollo/federation-internals');
flattenExports(gatewayRequire, '@apollo/query-planner');

const gateway = require('@apollo/gateway') as typeof ApolloGatewayModule;
export const { ApolloGateway, buildOperationContext, executeQueryPlan } = gateway;
