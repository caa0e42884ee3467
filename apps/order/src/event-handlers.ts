import {
  EventTypes,
  isPaymentFailed,
  isPaymentSessionCreated,
  isPaymentSucceeded,
  isTicketEvent,
  OrderStatus,
  type OrderServiceService,
} from '@oms/contracts';
import { PermanentError, type DomainEvent, type MessageBus } from '@oms/messaging';
import type { UnaryHandlers } from '@oms/rpc';

type Advance = UnaryHandlers<typeof OrderServiceService>['advanceOrder'];

/**
 * How payment and kitchen events move orders. Each applies at most once (inbox) and only forward
 * (the state machine), so redelivered, late or out-of-order events never move an order backwards.
 */
export function subscribeOrderEvents(
  bus: MessageBus,
  once: (consumer: string, eventId: string, apply: () => Promise<void>) => Promise<boolean>,
  advance: Advance,
): void {
  const on = <T>(type: string, isValid: (data: unknown) => data is T, apply: (data: T) => Promise<unknown>) =>
    bus.subscribe(type, async (event: DomainEvent) => {
      if (!isValid(event.data)) throw new PermanentError(`${type} without a valid payload`);
      const data = event.data;
      await once(`order.${type}`, event.id, async () => {
        await apply(data);
      });
    });

  on(EventTypes.paymentSessionCreated, isPaymentSessionCreated, (data) =>
    advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
      paymentUrl: data.paymentUrl,
      reason: '',
    }),
  );
  on(EventTypes.paymentSucceeded, isPaymentSucceeded, (data) =>
    advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_PAID,
      paymentUrl: '',
      reason: 'payment_succeeded',
    }),
  );
  on(EventTypes.paymentFailed, isPaymentFailed, (data) =>
    advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_FAILED,
      paymentUrl: '',
      reason: data.reason,
    }),
  );
  on(EventTypes.ticketStarted, isTicketEvent, (data) =>
    advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_PREPARING,
      paymentUrl: '',
      reason: '',
    }),
  );
  on(EventTypes.ticketReady, isTicketEvent, async (data) => {
    // A ready ticket was prepared: if its "started" event is still on its way (separate queues,
    // or held up by a broker outage), the order still passes through preparing, in order.
    await advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_PREPARING,
      paymentUrl: '',
      reason: '',
    });
    return advance({
      orderId: data.orderId,
      status: OrderStatus.ORDER_STATUS_READY,
      paymentUrl: '',
      reason: '',
    });
  });
}
