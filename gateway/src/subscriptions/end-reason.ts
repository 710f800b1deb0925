/**
 * Why a federated subscription ended; logged with every "subscription ended" line and counted in
 * `gateway_subscriptions_ended_total{reason}`.
 */
export type EndReason =
  /** The client sent `complete`. */
  | 'client_complete'
  /** The client's socket closed (or missed its pongs). */
  | 'client_disconnect'
  /** The subgraph completed the stream (e.g. `done: true` was the last event). */
  | 'upstream_complete'
  /** The subgraph answered the operation with errors and ended it. */
  | 'upstream_error'
  /** The subgraph socket closed, failed or stopped answering pings: the client got UPSTREAM_UNAVAILABLE. */
  | 'upstream_unavailable'
  /** The client fell too far behind (bounded queue full). */
  | 'slow_consumer'
  /** The session was revoked or the access token expired: the socket was closed with 4403. */
  | 'unauthorized'
  /** The gateway is stopping: every subscription is completed before the sockets close. */
  | 'shutdown'
  /** A bug on our side; the client got INTERNAL_SERVER_ERROR. */
  | 'internal_error';
