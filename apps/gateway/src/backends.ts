import {
  DeadLetterServiceService,
  KitchenServiceService,
  MenuServiceService,
  OrderServiceService,
  PaymentServiceService,
  StockServiceService,
} from '@oms/contracts';
import type { RpcClient } from '@oms/rpc';
import type { ServiceContext, ServiceName } from '@oms/service-kit';
import { withCoalescedGetOrder } from './order-reads';

/** Services whose dead-letter queues the admin API lists and replays. */
export const QUEUE_OWNERS = ['payment', 'order', 'stock', 'kitchen'] as const;
export type QueueOwner = (typeof QUEUE_OWNERS)[number];

/** The gRPC clients the gateway calls; tests hand in fakes of the same types. */
export interface Backends {
  order: RpcClient<typeof OrderServiceService>;
  menu: RpcClient<typeof MenuServiceService>;
  stock: RpcClient<typeof StockServiceService>;
  payment: RpcClient<typeof PaymentServiceService>;
  kitchen: RpcClient<typeof KitchenServiceService>;
  deadLetters: Record<QueueOwner, RpcClient<typeof DeadLetterServiceService>>;
}

/** Backends without which the gateway is not ready; the others are reported but optional. */
export const REQUIRED_BACKENDS: readonly ServiceName[] = ['order', 'menu', 'stock'];
export const OPTIONAL_BACKENDS: readonly ServiceName[] = ['payment', 'kitchen'];

/** How long an order may take to be priced, reserved and stored; order's calls share it. */
export const CREATE_ORDER_TIMEOUT_MS = 10_000;

/**
 * Clients over Consul discovery. Only calls that are safe to repeat are retried: CreateOrder is,
 * because the gateway always sends a request id the order service deduplicates on; UpsertItem is,
 * because the gateway always sends the item id.
 */
export function connectBackends(context: Pick<ServiceContext<unknown>, 'client'>): Backends {
  return {
    order: withCoalescedGetOrder(
      context.client('order', OrderServiceService, {
        idempotent: ['createOrder', 'getOrder', 'getOrders', 'listOrders', 'cancelOrder'],
        // A burst of orders for one item queues on that item's stock: an order that waits its turn
        // for a few seconds is still an order, where a timeout would leave the client guessing.
        timeoutsMs: { createOrder: CREATE_ORDER_TIMEOUT_MS },
      }),
    ),
    menu: context.client('menu', MenuServiceService, {
      idempotent: ['listItems', 'getItem', 'getItems', 'upsertItem'],
    }),
    stock: context.client('stock', StockServiceService, {
      idempotent: ['getAvailability', 'setAvailable', 'ensureItem'],
    }),
    payment: context.client('payment', PaymentServiceService, {
      // Payment applies each Stripe event at most once (deduplicated by event id).
      idempotent: ['handleStripeWebhook', 'getPayment'],
      // Stripe waits for a webhook answer far longer than a user waits for a page; a slow store
      // under load should not turn a valid delivery into a failure Stripe has to redeliver.
      timeoutsMs: { handleStripeWebhook: 10_000 },
    }),
    kitchen: context.client('kitchen', KitchenServiceService, { idempotent: ['listTickets'] }),
    deadLetters: Object.fromEntries(
      QUEUE_OWNERS.map((service) => [
        service,
        context.client(service, DeadLetterServiceService, { idempotent: ['listDeadLetters'] }),
      ]),
    ) as Record<QueueOwner, RpcClient<typeof DeadLetterServiceService>>,
  };
}
