/** In-memory fakes of the gateway's dependencies, for tests (never imported by main.ts). */
import { status, type ServiceDefinition } from '@grpc/grpc-js';
import { pino } from 'pino';
import {
  DeadLetterServiceService,
  KitchenServiceService,
  MenuServiceService,
  OrderServiceService,
  OrderStatus,
  PaymentServiceService,
  StockServiceService,
  type Order,
} from '@oms/contracts';
import { RpcError, type RpcClient } from '@oms/rpc';
import type { ServiceName } from '@oms/service-kit';
import { buildApp, type GatewayDependencies } from '../src/app';
import { QUEUE_OWNERS, type Backends, type QueueOwner } from '../src/backends';
import type {
  BeginResult,
  IdempotencyRecord,
  IdempotencyStore,
  NewIdempotencyRecord,
  StoredResponse,
} from '../src/idempotency-store';

type Methods<D> = Omit<RpcClient<D>, 'close'>;

/** A client of the given service answering with `methods`; the others fail as UNIMPLEMENTED. */
export function fakeClient<D extends ServiceDefinition>(
  definition: D,
  methods: Partial<Methods<D>> = {},
): RpcClient<D> {
  const client: Record<string, unknown> = { close: () => undefined };
  for (const name of Object.keys(definition)) {
    client[name] =
      (methods as Record<string, unknown>)[name] ??
      (async () => {
        throw new RpcError(status.UNIMPLEMENTED, 'internal', `${name} is not implemented by this fake`);
      });
  }
  return client as RpcClient<D>;
}

export const unavailable = (service = 'backend') =>
  new RpcError(status.UNAVAILABLE, 'unavailable', `${service} is unavailable`, [], 1);

/** The IdempotencyStore contract in memory: each operation is atomic, like one MongoDB document write. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();

  async begin(record: NewIdempotencyRecord): Promise<BeginResult> {
    await Promise.resolve();
    const existing = this.records.get(record.key);
    if (existing && existing.expiresAt.getTime() > Date.now())
      return { started: false, existing: { ...existing } };
    this.records.set(record.key, { ...record, state: 'in_progress' });
    return { started: true };
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    await Promise.resolve();
    const record = this.records.get(key);
    return record && record.expiresAt.getTime() > Date.now() ? { ...record } : undefined;
  }

  async takeOver(key: string, previousOwner: string, owner: string, leaseUntil: Date): Promise<boolean> {
    const record = this.records.get(key);
    if (!record || record.state !== 'in_progress' || record.owner !== previousOwner) return false;
    this.records.set(key, { ...record, owner, leaseUntil });
    return true;
  }

  async complete(key: string, owner: string, response: StoredResponse, expiresAt: Date): Promise<boolean> {
    const record = this.records.get(key);
    if (!record || record.state !== 'in_progress' || record.owner !== owner) return false;
    this.records.set(key, { ...record, state: 'completed', response, expiresAt });
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    const record = this.records.get(key);
    if (record && record.state === 'in_progress' && record.owner === owner) this.records.delete(key);
  }

  async deleteExpired(now: Date): Promise<number> {
    let deleted = 0;
    for (const [key, record] of this.records) {
      if (record.expiresAt.getTime() <= now.getTime()) {
        this.records.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}

export const MENU = [
  {
    id: 'margherita',
    name: 'Margherita',
    description: 'Tomato, mozzarella',
    priceCents: 1250,
    currency: 'usd',
  },
  { id: 'tiramisu', name: 'Tiramisu', description: 'Coffee, mascarpone', priceCents: 700, currency: 'usd' },
];

export function sampleOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: 'ord-1',
    customerId: 'alice',
    status: OrderStatus.ORDER_STATUS_PENDING,
    items: [
      { itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
    ],
    totalCents: 2500,
    currency: 'usd',
    paymentUrl: undefined,
    history: [{ status: OrderStatus.ORDER_STATUS_PENDING, at: '2025-01-01T00:00:00.000Z' }],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Backends that answer like a healthy system with the sample menu; override what a test needs. */
export function fakeBackends(overrides: Partial<Backends> = {}): Backends {
  const menuById = new Map(MENU.map((item) => [item.id, item]));
  return {
    order: fakeClient(OrderServiceService, {
      createOrder: async ({ customerId, items }) =>
        sampleOrder({
          customerId,
          items: items.map((line) => ({
            itemId: line.itemId,
            name: line.itemId,
            quantity: line.quantity,
            unitPriceCents: 100,
            lineTotalCents: 100 * line.quantity,
          })),
        }),
      getOrder: async ({ customerId, orderId }) => sampleOrder({ id: orderId, customerId }),
      listOrders: async ({ customerId }) => ({ orders: [sampleOrder({ customerId })], nextCursor: '' }),
      cancelOrder: async ({ customerId, orderId }) =>
        sampleOrder({ id: orderId, customerId, status: OrderStatus.ORDER_STATUS_CANCELLED }),
    }),
    menu: fakeClient(MenuServiceService, {
      listItems: async () => ({ items: MENU }),
      getItem: async ({ id }) => {
        const item = menuById.get(id);
        if (!item) throw new RpcError(status.NOT_FOUND, 'not_found', `menu item ${id} not found`);
        return item;
      },
      upsertItem: async (item) => item,
    }),
    stock: fakeClient(StockServiceService, {
      getAvailability: async ({ itemIds }) => ({
        items: MENU.filter((item) => itemIds.length === 0 || itemIds.includes(item.id)).map((item) => ({
          itemId: item.id,
          available: 100,
          held: 0,
          committed: 0,
        })),
      }),
      setAvailable: async ({ itemId, available }) => ({ itemId, available, held: 0, committed: 0 }),
      ensureItem: async ({ itemId, initialAvailable }) => ({
        itemId,
        available: initialAvailable,
        held: 0,
        committed: 0,
      }),
    }),
    payment: fakeClient(PaymentServiceService, { handleStripeWebhook: async () => ({ received: true }) }),
    kitchen: fakeClient(KitchenServiceService, { listTickets: async () => ({ tickets: [] }) }),
    deadLetters: Object.fromEntries(
      QUEUE_OWNERS.map((service) => [service, fakeClient(DeadLetterServiceService)]),
    ) as Record<QueueOwner, RpcClient<typeof DeadLetterServiceService>>,
    ...overrides,
  };
}

export const ADMIN_TOKEN = 'test-admin-token';

export async function buildTestApp(overrides: Partial<GatewayDependencies> = {}) {
  const idempotencyStore = new MemoryIdempotencyStore();
  const known: Partial<Record<ServiceName, number>> = { order: 1, menu: 1, stock: 1, payment: 1, kitchen: 1 };
  let shuttingDown = false;
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    backends: fakeBackends(),
    idempotencyStore,
    idempotency: { ttlMs: 24 * 3_600_000, waitMs: 2_000, leaseMs: 30_000 },
    adminToken: ADMIN_TOKEN,
    readiness: { knownInstances: (service) => known[service], isShuttingDown: () => shuttingDown },
    ...overrides,
  });
  return {
    app,
    idempotencyStore,
    known,
    shutDown: () => {
      shuttingDown = true;
    },
  };
}
