import type { ReservationRow } from '../domain/ports.ts';

export const Reservation = {
  /**
   * EXPIRED is not stored: a reservation released at or after its expiry time (by the sweeper, or by a release
   * that came too late) reads as EXPIRED, one released earlier as RELEASED.
   */
  status: (reservation: ReservationRow) =>
    reservation.status === 'RELEASED' && reservation.updatedAt.getTime() >= reservation.expiresAt.getTime() ? 'EXPIRED' : reservation.status,
};
