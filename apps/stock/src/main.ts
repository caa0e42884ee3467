import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runGrpcService } from '@oms/service-kit';
import { EventTypes, isOrderPaid, StockServiceService } from '@oms/contracts';
import { DomainError } from '@oms/domain';
import { stockHandlers } from './handlers';
import { RESERVATION_SWEEP_IDLE_MS, ReservationSweeper } from './reservation-sweeper';
import { StockStore } from './stock-store';

void runGrpcService({
  name: 'stock',
  telemetry,
  config: Type.Object({
    RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 900 }),
    RESERVATION_SWEEP_MS: Type.Integer({ minimum: 50, maximum: 600_000, default: 1000 }),
  }),
  async setup({ database, config, logger, messaging, every }) {
    const store = await StockStore.open(await database());
    const sweeper = new ReservationSweeper(store, logger, { intervalMs: config.RESERVATION_SWEEP_MS });
    const sweeps = every(
      'reservation sweep',
      { minMs: config.RESERVATION_SWEEP_MS, maxMs: RESERVATION_SWEEP_IDLE_MS },
      async (stopping) => (await sweeper.sweep(new Date(), stopping)).nextSweepMs,
    );
    // A paid order's reservation becomes a sale. Commit is idempotent per reservation, so the
    // inbox only saves work on redelivery.
    (await messaging.bus()).on(EventTypes.orderPaid, isOrderPaid, ({ orderId }) => store.commit(orderId), {
      // Paid after its reservation lapsed: retrying cannot help; a person looks at the dead letter.
      isPermanent: (error) => error instanceof DomainError && error.kind === 'precondition_failed',
    });
    return {
      grpc: [
        {
          definition: StockServiceService,
          handlers: stockHandlers(store, {
            defaultTtlSeconds: config.RESERVATION_TTL_SECONDS,
            expiries: sweeps,
          }),
        },
      ],
    };
  },
});
