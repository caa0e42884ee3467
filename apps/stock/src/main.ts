import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runGrpcService } from '@oms/service-kit';
import { StockServiceService } from '@oms/contracts';
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
  async setup({ database, config, logger, every }) {
    const store = await StockStore.open(await database());
    const sweeper = new ReservationSweeper(store, logger, { intervalMs: config.RESERVATION_SWEEP_MS });
    const sweeps = every(
      'reservation sweep',
      { minMs: config.RESERVATION_SWEEP_MS, maxMs: RESERVATION_SWEEP_IDLE_MS },
      async (stopping) => (await sweeper.sweep(new Date(), stopping)).nextSweepMs,
    );
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
      // Spent hold marks still waiting for their item's next hold (the sweeper would find them).
      onClose: () => store.flushSpentHolds(),
    };
  },
});
