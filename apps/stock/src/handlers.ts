import type { StockServiceService } from '@oms/contracts';
import type { UnaryHandlers } from '@oms/rpc';
import { setOrderId } from '@oms/telemetry';
import {
  toReservation,
  validateItemId,
  validateItemIds,
  validateQuantityToSet,
  validateReservationId,
  validateReserveRequest,
} from './reservation-rules';
import type { StockStore } from './stock-store';

export function stockHandlers(
  store: StockStore,
  options: {
    defaultTtlSeconds: number;
    /** Told of every reservation's expiry, so that it lapses on time (the reservation sweeper). */
    expiries: { dueBy(at: Date): void };
  },
): UnaryHandlers<typeof StockServiceService> {
  return {
    getAvailability: async ({ itemIds }) => ({ items: await store.availability(validateItemIds(itemIds)) }),

    reserve: async (request) => {
      // Reservation ids are order ids: Jaeger finds this span with the order's traces.
      setOrderId(request.reservationId);
      const reserved = await store.reserve(validateReserveRequest(request, options.defaultTtlSeconds));
      options.expiries.dueBy(reserved.expiresAt);
      return toReservation(reserved);
    },

    commit: async ({ reservationId }) => {
      setOrderId(reservationId);
      return toReservation(await store.commit(validateReservationId(reservationId)));
    },

    release: async ({ reservationId }) => {
      setOrderId(reservationId);
      return toReservation(await store.release(validateReservationId(reservationId)));
    },

    setAvailable: async ({ itemId, available }) =>
      store.setAvailable(validateItemId(itemId), validateQuantityToSet('available', available)),

    ensureItem: async ({ itemId, initialAvailable }) =>
      store.ensureItem(validateItemId(itemId), validateQuantityToSet('initialAvailable', initialAvailable)),
  };
}
