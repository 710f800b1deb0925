export { createGatewayServer, readSupergraph, type GatewayOptions, type GatewayServer, type TokenAuthenticator } from './server.ts';
export { loadGatewayConfig, type GatewayConfig } from './config.ts';
