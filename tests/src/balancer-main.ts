/**
 * A round-robin load balancer in a process of its own, for running several replicas of a subgraph behind one URL
 * (tests/bench/streams.ts runs two conversation replicas behind the gateway this way; in production a load balancer
 * or a Kubernetes Service does it). HTTP requests go to the next replica one by one (a keep-alive connection from
 * the gateway carries requests for both); a WebSocket upgrade goes to the next replica and stays there, piped as
 * bytes.
 *
 * The replicas are not known when it starts (they listen on port 0 and the gateway needs this URL first): it holds
 * requests until `POST /targets` on its control URL names them (`{"targets": ["http://127.0.0.1:1234", …]}`).
 * `GET /stats` there answers how many requests and sockets each target got. Logs one JSON line
 * `{ msg: "balancer ready", url, control }`.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Target {
  host: string;
  port: number;
  requests: number;
  sockets: number;
}

let targets: Target[] = [];
/** Next target for requests and for sockets, counted apart so that each alternates evenly on its own. */
const next = { requests: 0, sockets: 0 };
const held: Array<() => void> = [];
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function pick(kind: 'requests' | 'sockets'): Target {
  const target = targets[next[kind] % targets.length]!;
  next[kind] += 1;
  target[kind] += 1;
  return target;
}

/** Runs `route` once targets are known. */
function whenTargets(route: () => void): void {
  if (targets.length > 0) route();
  else held.push(route);
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  whenTargets(() => {
    const target = pick('requests');
    const upstream = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
}

function tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
  client.pause();
  whenTargets(() => {
    const target = pick('sockets');
    const upstream = connect(target.port, target.host);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.once('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    });
  });
}

const server = createServer(forward);
server.on('upgrade', tunnel);
server.keepAliveTimeout = 60_000;

const control = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(targets.map((t) => ({ target: `${t.host}:${t.port}`, requests: t.requests, sockets: t.sockets }))));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/targets') {
    res.statusCode = 404;
    res.end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const urls = (JSON.parse(body) as { targets: string[] }).targets;
    targets = urls.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port), requests: 0, sockets: 0 };
    });
    for (const route of held.splice(0)) route();
    res.end('{}');
  });
});

const listen = (s: ReturnType<typeof createServer>) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
const [port, controlPort] = await Promise.all([listen(server), listen(control)]);
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'balancer ready', url: `http://127.0.0.1:${port}/graphql`, control: `http://127.0.0.1:${controlPort}` })}\n`);
const stop = () => {
  server.closeAllConnections();
  server.close();
  control.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
