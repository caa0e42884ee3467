import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runService } from '@oms/service-kit';
import { EventTypes, isOrderPaid, StockServiceService } from '@oms/contracts';
import { PermanentError } from '@oms/messaging';
import { RpcError } from '@oms/rpc';
import { status } from '@grpc/grpc-js';
import { stockHandlers } from './handlers';
import { ReservationSweeper } from './reservation-sweeper';
import { StockStore } from './stock-store';

void runService({
  name: 'stock',
  telemetry,
  config: Type.Object({
    RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 900 }),
    RESERVATION_SWEEP_MS: Type.Integer({ minimum: 50, maximum: 600_000, default: 1000 }),
  }),
  async setup({ database, config, logger, messaging }) {
    const store = await StockStore.open(await database());
    const sweeper = new ReservationSweeper(store, logger, { intervalMs: config.RESERVATION_SWEEP_MS });
    sweeper.start();
    // A paid order's reservation becomes a sale. Commit is idempotent per reservation, so the
    // inbox only saves work on redelivery.
    (await messaging.bus()).subscribe(EventTypes.orderPaid, async (event) => {
      if (!isOrderPaid(event.data)) throw new PermanentError('order.paid without a valid payload');
      const { orderId } = event.data;
      await messaging.once(`stock.${EventTypes.orderPaid}`, event.id, async () => {
        try {
          await store.commit(orderId);
        } catch (error) {
          // Paid after its reservation lapsed: retrying cannot help; a person looks at the dead letter.
          if (error instanceof RpcError && error.code === status.FAILED_PRECONDITION)
            throw new PermanentError(error.message);
          throw error;
        }
      });
    });
    return {
      grpc: [
        {
          definition: StockServiceService,
          handlers: stockHandlers(store, {
            defaultTtlSeconds: config.RESERVATION_TTL_SECONDS,
            expiries: sweeper,
          }),
        },
      ],
      onDrain: () => sweeper.stop(),
    };
  },
});
