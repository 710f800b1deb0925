import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import { MAX_USER_AGENT_LENGTH, type RequestOrigin } from '@firefly/auth';

export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY compiled as Express compiles `trust proxy`: a hop count (`1`), `true`, or addresses/subnets/names
 * (`loopback, 10.0.0.0/8`); empty trusts no proxy, so the client IP is the socket's peer.
 */
export function compileTrustProxy(value: string): TrustProxy {
  if (value === '' || value === 'false') return () => false;
  if (value === 'true') return () => true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return proxyaddr.compile(value.split(',').map((part) => part.trim()).filter(Boolean));
}

/**
 * Where a request comes from, the same way for an HTTP request and a graphql-ws upgrade: the client IP under the
 * TRUST_PROXY rules (so a client cannot pick its IP with X-Forwarded-For) and its User-Agent, capped. Both travel
 * to subgraphs inside the signed credential (rate limits, SMS caps, the session list).
 */
export function createClientOrigin(trust: TrustProxy) {
  return function originOf(message: IncomingMessage): RequestOrigin {
    const clientIp = clientIpOf(message, trust);
    const userAgent = message.headers['user-agent']?.slice(0, MAX_USER_AGENT_LENGTH);
    return { ...(clientIp ? { clientIp } : {}), ...(userAgent ? { userAgent } : {}) };
  };
}

function clientIpOf(message: IncomingMessage, trust: TrustProxy): string | undefined {
  return message.socket?.remoteAddress ? proxyaddr(message, trust) : undefined;
}
