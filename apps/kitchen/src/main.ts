import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runGrpcService } from '@oms/service-kit';
import { EventTypes, isOrderPaid, KitchenServiceService } from '@oms/contracts';
import { captureTraceContext } from '@oms/telemetry';
import { kitchenHandlers } from './handlers';
import { KITCHEN_IDLE_POLL_MS, KitchenLine } from './kitchen-line';
import { TicketStore } from './ticket-store';

/**
 * The kitchen line's pace: tickets prepared at once, the (simulated) time each takes, and how often
 * the line looks for more.
 */
const KITCHEN_LINE_CONFIG = Type.Object({
  KITCHEN_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 4 }),
  KITCHEN_PREP_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 3000 }),
  KITCHEN_POLL_MS: Type.Integer({ minimum: 20, maximum: 60_000, default: 250 }),
});

void runGrpcService({
  name: 'kitchen',
  telemetry,
  config: KITCHEN_LINE_CONFIG,
  async setup({ config, database, logger, instance, messaging, every }) {
    const store = await TicketStore.open(await database(), messaging.relayOutbox);
    const polls = every(
      'kitchen line',
      { minMs: config.KITCHEN_POLL_MS, maxMs: KITCHEN_IDLE_POLL_MS },
      (stopping) => line.poll(stopping),
    );
    const line = new KitchenLine(
      store,
      instance,
      logger,
      {
        concurrency: config.KITCHEN_CONCURRENCY,
        prepMs: config.KITCHEN_PREP_MS,
        pollMs: config.KITCHEN_POLL_MS,
      },
      polls,
    );
    const bus = await messaging.bus();
    // One ticket per order is a unique key: a repeat inserts nothing, so no inbox is needed.
    bus.on(
      EventTypes.orderPaid,
      isOrderPaid,
      async (order) => {
        await store.createForPaidOrder(order, captureTraceContext());
        line.kick();
      },
      { idempotentWrite: true },
    );
    return {
      grpc: [{ definition: KitchenServiceService, handlers: kitchenHandlers(store) }],
      onDrain: () => line.stop(),
    };
  },
});
