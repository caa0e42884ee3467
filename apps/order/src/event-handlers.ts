import {
  EventTypes,
  isPaymentFailed,
  isPaymentSessionCreated,
  isPaymentSucceeded,
  isTicketEvent,
  OrderStatus,
} from '@oms/contracts';
import { PermanentError, type MessageBus } from '@oms/messaging';
import type { OrderDomain } from './order-domain';

/**
 * How payment and kitchen events move orders. Each moves an order only forward (the state machine
 * is the write's precondition), so a repeated, late or out-of-order event changes nothing: these
 * consumers need no inbox (`idempotentWrite`), which would cost a write for every event.
 */
export function subscribeOrderEvents(bus: MessageBus, domain: Pick<OrderDomain, 'advance' | 'pay'>): void {
  /** An event about an order that does not exist is a bad event: retrying cannot fix it. */
  const mustExist = (orderId: string) => (order: unknown) => {
    if (!order) throw new PermanentError(`order ${orderId} does not exist`);
  };
  const advance = (...args: Parameters<OrderDomain['advance']>) =>
    domain.advance(...args).then(mustExist(args[0]));
  const on = <T>(
    type: string,
    isPayload: (data: unknown) => data is T,
    handler: (data: T) => Promise<unknown>,
  ) => bus.on(type, isPayload, handler, { idempotentWrite: true });

  on(EventTypes.paymentSessionCreated, isPaymentSessionCreated, (data) =>
    advance(data.orderId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT, { paymentUrl: data.paymentUrl }),
  );
  on(EventTypes.paymentSucceeded, isPaymentSucceeded, (data) =>
    domain.pay(data.orderId).then(mustExist(data.orderId)),
  );
  on(EventTypes.paymentFailed, isPaymentFailed, (data) =>
    advance(data.orderId, OrderStatus.ORDER_STATUS_FAILED, { reason: data.reason }),
  );
  on(EventTypes.ticketStarted, isTicketEvent, (data) =>
    advance(data.orderId, OrderStatus.ORDER_STATUS_PREPARING),
  );
  on(EventTypes.ticketReady, isTicketEvent, async (data) => {
    // A ready ticket was prepared: if its "started" event is still on its way (separate queues,
    // or held up by a broker outage), the order still passes through preparing, in order.
    await advance(data.orderId, OrderStatus.ORDER_STATUS_PREPARING);
    return advance(data.orderId, OrderStatus.ORDER_STATUS_READY);
  });
}
