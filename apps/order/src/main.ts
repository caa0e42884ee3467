import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runGrpcService } from '@oms/service-kit';
import { MenuServiceService, OrderServiceService, StockServiceService } from '@oms/contracts';
import { orderHandlers } from './handlers';
import { MenuPrices } from './menu-prices';
import { OrderDomain } from './order-domain';
import { OrderStore } from './order-store';
import { ORDER_SWEEP_IDLE_MS, OrderExpirySweeper } from './order-expiry-sweeper';
import { subscribeOrderEvents } from './event-handlers';

void runGrpcService({
  name: 'order',
  telemetry,
  config: Type.Object({
    RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 900 }),
    ORDER_SWEEP_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
    /** How long a menu price is reused before it is read again; 0 reads the menu for every order. */
    MENU_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5000 }),
  }),
  async setup({ config, database, client, logger, messaging, every }) {
    const store = await OrderStore.open(await database(), messaging.relayOutbox);
    // CreateOrder's own deadline (the gateway's) bounds these; the caps only keep them from
    // ending before it when a burst queues on one item's stock.
    const menu = client('menu', MenuServiceService, {
      idempotent: ['listItems', 'getItem', 'getItems'],
      timeoutsMs: { getItems: 10_000 },
    });
    // Every stock RPC is idempotent by reservation id or by nature, so all may be retried.
    const stock = client('stock', StockServiceService, {
      idempotent: ['getAvailability', 'reserve', 'commit', 'release', 'setAvailable', 'ensureItem'],
      timeoutsMs: { reserve: 10_000 },
    });
    // The domain tells the expiry sweep when each new order lapses, and the sweeper acts through
    // the domain; its first round runs after ORDER_SWEEP_MS, when both exist.
    const expirySweep = every(
      'order expiry sweep',
      { minMs: config.ORDER_SWEEP_MS, maxMs: ORDER_SWEEP_IDLE_MS },
      () => sweeper.sweep(),
    );
    const domain = new OrderDomain({
      store,
      menu: new MenuPrices(menu, config.MENU_CACHE_TTL_MS),
      stock,
      reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      expiries: expirySweep,
      logger,
    });
    const sweeper = new OrderExpirySweeper(store, domain, logger, config.ORDER_SWEEP_MS);
    subscribeOrderEvents(await messaging.bus(), domain);
    return { grpc: [{ definition: OrderServiceService, handlers: orderHandlers(domain, store) }] };
  },
});
