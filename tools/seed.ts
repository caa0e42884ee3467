// Seeds the menu and its stock through the services' own RPCs. Idempotent: menu items are
// upserted by id and stock is only created when missing (never reset), so re-seeding never
// duplicates items nor restores stock that orders consumed.
//   node --import tsx tools/seed.ts        (OMS_ENV and CONSUL_URL as for the services)
import pino from 'pino';
import { MenuServiceService, StockServiceService } from '@oms/contracts';
import { ConsulClient, ServiceCatalog, consulTarget, registerConsulResolver } from '@oms/discovery';
import { createTargetPolicy } from '@oms/resilience';
import { createRpcClient } from '@oms/rpc';

export const SEED_ITEMS = [
  { id: 'margherita', name: 'Margherita', description: 'Tomato, mozzarella, basil', priceCents: 1250 },
  { id: 'diavola', name: 'Diavola', description: 'Tomato, mozzarella, spicy salami', priceCents: 1450 },
  { id: 'quattro-formaggi', name: 'Quattro formaggi', description: 'Four cheeses', priceCents: 1550 },
  { id: 'funghi', name: 'Funghi', description: 'Tomato, mozzarella, mushrooms', priceCents: 1350 },
  { id: 'caesar-salad', name: 'Caesar salad', description: 'Romaine, parmesan, croutons', priceCents: 950 },
  { id: 'minestrone', name: 'Minestrone', description: 'Vegetable soup', priceCents: 750 },
  { id: 'tiramisu', name: 'Tiramisu', description: 'Coffee, mascarpone, cocoa', priceCents: 650 },
  { id: 'lemonade', name: 'Lemonade', description: 'Fresh lemons, mint', priceCents: 400 },
];
const INITIAL_STOCK = 100;

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const deployment = process.env.OMS_ENV ?? 'local';
  const catalog = new ServiceCatalog(
    new ConsulClient(process.env.CONSUL_URL ?? 'http://127.0.0.1:8500'),
    `env-${deployment}`,
    logger,
  );
  registerConsulResolver(catalog);
  const policy = () =>
    createTargetPolicy({
      retryAttempts: 5,
      breakerFailures: 100,
      breakerHalfOpenMs: 1000,
      bulkheadLimit: 8,
      bulkheadQueue: 64,
    });
  const menu = createRpcClient(MenuServiceService, {
    service: 'menu',
    target: consulTarget('menu'),
    policy: policy(),
    defaultTimeoutMs: 5000,
    idempotent: ['upsertItem'],
  });
  const stock = createRpcClient(StockServiceService, {
    service: 'stock',
    target: consulTarget('stock'),
    policy: policy(),
    defaultTimeoutMs: 5000,
    idempotent: ['ensureItem'],
  });
  for (const item of SEED_ITEMS) {
    await menu.upsertItem({ ...item, currency: 'usd' });
    await stock.ensureItem({ itemId: item.id, initialAvailable: INITIAL_STOCK });
  }
  console.log(
    `seeded ${SEED_ITEMS.length} menu items (stock ${INITIAL_STOCK} each where new) in deployment ${deployment}`,
  );
  menu.close();
  stock.close();
  catalog.close();
}

main().catch((error: unknown) => {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
