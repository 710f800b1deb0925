import type { ReservationRow } from '../domain/ports.ts';
import type { ReservationResolvers, ReservationStatus } from '../generated/resolvers-types.ts';

/**
 * EXPIRED is not stored: a reservation released at or after its expiry time (by the sweeper, or by a release that
 * came too late) reads as EXPIRED, one released earlier as RELEASED.
 */
export function reservationStatus(reservation: ReservationRow): ReservationStatus {
  return reservation.status === 'RELEASED' && reservation.updatedAt.getTime() >= reservation.expiresAt.getTime() ? 'EXPIRED' : reservation.status;
}

export const Reservation: ReservationResolvers = {
  status: (reservation) => reservationStatus(reservation),
};
