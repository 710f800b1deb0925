import type { AuditEventResolvers } from '../generated/resolvers-types.ts';

export const AuditEvent: AuditEventResolvers = {
  /** A user id names a User of the tenant (null if since gone); `service:…` and `cli:…` actors have none. */
  actor: (event, _, ctx) => (event.actor.includes(':') || event.actor === 'anonymous' ? null : ctx.loaders.user.load(event.actor)),
  at: (event) => event.createdAt,
  details: (event) => (event.details === null ? null : (JSON.parse(event.details) as unknown)),
};
