import type { Identity } from '@firefly/auth';

/** Orders are visible to their owner, the tenant's admins and our services; to anyone else they do not exist. */
export function canSeeOrder(identity: Identity, order: { userId: string }): boolean {
  switch (identity.kind) {
    case 'service':
      return true;
    case 'user':
      return identity.roles.includes('ADMIN') || identity.userId === order.userId;
    case 'anonymous':
      return false;
    default: {
      const unreachable: never = identity;
      return unreachable;
    }
  }
}

/** Who made a change, for audit logs. */
export function actorOf(identity: Identity): string {
  switch (identity.kind) {
    case 'user':
      return identity.userId;
    case 'service':
      return `service:${identity.service}`;
    case 'anonymous':
      return 'anonymous';
    default: {
      const unreachable: never = identity;
      return unreachable;
    }
  }
}
