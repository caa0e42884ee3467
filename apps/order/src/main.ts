import { telemetry } from './instrument';
import { Type } from '@sinclair/typebox';
import { runService } from '@oms/service-kit';
import { MenuServiceService, OrderServiceService, StockServiceService } from '@oms/contracts';
import { orderHandlers } from './handlers';
import { MenuPrices } from './menu-prices';
import { OrderDomain } from './order-domain';
import { OrderStore } from './order-store';
import { OrderExpirySweeper } from './order-expiry-sweeper';
import { subscribeOrderEvents } from './event-handlers';

void runService({
  name: 'order',
  telemetry,
  config: Type.Object({
    RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 900 }),
    ORDER_SWEEP_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
    /** How long a menu price is reused before it is read again; 0 reads the menu for every order. */
    MENU_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5000 }),
  }),
  async setup({ config, database, client, logger, messaging }) {
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
    // The domain tells the sweeper when each new order lapses; the sweeper acts through the domain
    // (it only runs once started below, when `domain` exists).
    const sweeper: OrderExpirySweeper = new OrderExpirySweeper(
      store,
      { advance: (...args) => domain.advance(...args), releaseStock: (id) => domain.releaseStock(id) },
      logger,
      config.ORDER_SWEEP_MS,
    );
    const domain: OrderDomain = new OrderDomain({
      store,
      menu: new MenuPrices(menu, config.MENU_CACHE_TTL_MS),
      stock,
      reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      expiries: sweeper,
    });
    subscribeOrderEvents(await messaging.bus(), domain);
    sweeper.start();
    return {
      grpc: [{ definition: OrderServiceService, handlers: orderHandlers(domain, store) }],
      onDrain: () => sweeper.stop(),
    };
  },
});
