/**
 * The domain events that cross service boundaries over RabbitMQ, with their payloads. Producers
 * and consumers both import these, so a payload change is a compile error on both sides.
 */
export const EventTypes = {
  orderCreated: 'order.created',
  orderPaid: 'order.paid',
  paymentSessionCreated: 'payment.session_created',
  paymentSucceeded: 'payment.succeeded',
  paymentFailed: 'payment.failed',
  ticketStarted: 'kitchen.ticket_started',
  ticketReady: 'kitchen.ticket_ready',
} as const;

export interface OrderLineData {
  itemId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderCreatedData {
  orderId: string;
  customerId: string;
  items: OrderLineData[];
  totalCents: number;
  currency: string;
}

export interface OrderPaidData {
  orderId: string;
  customerId: string;
  items: OrderLineData[];
}

export interface PaymentSessionCreatedData {
  orderId: string;
  checkoutSessionId: string;
  paymentUrl: string;
}

export interface PaymentSucceededData {
  orderId: string;
  checkoutSessionId: string;
  amountCents: number;
  currency: string;
}

export interface PaymentFailedData {
  orderId: string;
  reason: 'session_expired' | 'async_payment_failed';
}

export interface TicketEventData {
  orderId: string;
  ticketId: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Minimal shape checks at the consumer edge: a malformed payload is a permanent failure. */
export const isOrderCreated = (d: unknown): d is OrderCreatedData =>
  isObject(d) &&
  isString(d.orderId) &&
  isString(d.customerId) &&
  Array.isArray(d.items) &&
  Number.isInteger(d.totalCents) &&
  isString(d.currency);
export const isOrderPaid = (d: unknown): d is OrderPaidData =>
  isObject(d) && isString(d.orderId) && isString(d.customerId) && Array.isArray(d.items);
export const isPaymentSessionCreated = (d: unknown): d is PaymentSessionCreatedData =>
  isObject(d) && isString(d.orderId) && isString(d.paymentUrl);
export const isPaymentSucceeded = (d: unknown): d is PaymentSucceededData =>
  isObject(d) && isString(d.orderId);
export const isPaymentFailed = (d: unknown): d is PaymentFailedData =>
  isObject(d) && isString(d.orderId) && isString(d.reason);
export const isTicketEvent = (d: unknown): d is TicketEventData =>
  isObject(d) && isString(d.orderId) && isString(d.ticketId);
