// `npm start`'s web process: the Vite development server on WEB_PORT, forwarding /graphql to WEB_GATEWAY_URL.
import { startDevServer } from '../server.ts';

const server = await startDevServer();
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
