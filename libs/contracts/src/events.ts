/**
 * The domain events that cross service boundaries over RabbitMQ. Their payloads are messages of
 * proto/oms/v1/events.proto (generated types, exported from this package): producers and consumers
 * both import them, so a payload change is a compile error on both sides. Payloads travel as the
 * JSON of those types (camelCase names, integers as numbers), as they always have.
 */
import {
  OrderCreatedData,
  OrderPaidData,
  PaymentFailedData,
  PaymentSessionCreatedData,
  PaymentSucceededData,
  TicketEventData,
  type MessageFns,
} from './generated/oms/v1/events';

export const EventTypes = {
  orderCreated: 'order.created',
  orderPaid: 'order.paid',
  paymentSessionCreated: 'payment.session_created',
  paymentSucceeded: 'payment.succeeded',
  paymentFailed: 'payment.failed',
  ticketStarted: 'kitchen.ticket_started',
  ticketReady: 'kitchen.ticket_ready',
} as const;

type PayloadMessage<T> = Pick<MessageFns<T>, 'fromJSON' | 'encode' | 'decode'>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether `actual` holds every field of `expected` (a decoded message) with the same value. Fields
 * `expected` does not have are ignored, so a newer producer may add fields. A string must not be
 * empty: proto3 cannot tell "" from a field that was never set.
 */
function holdsFields(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'string') return expected !== '' && expected === actual;
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => holdsFields(item, actual[index]))
    );
  if (isRecord(expected))
    return (
      isRecord(actual) && Object.entries(expected).every(([key, value]) => holdsFields(value, actual[key]))
    );
  return expected === actual;
}

/**
 * The consumer-edge check of one payload message, derived from its generated code: the payload
 * must already be what the message makes of it. `fromJSON` fills a missing field with its default
 * and coerces a value of the wrong type, so either shows up as a difference; the binary form then
 * refuses what JSON cannot (a fraction or an unsafe integer in an integer field). A payload that
 * fails is malformed: a permanent failure, never retried.
 */
export function payloadGuard<T>(message: PayloadMessage<T>): (data: unknown) => data is T {
  return (data: unknown): data is T => {
    if (!isRecord(data)) return false;
    try {
      const decoded = message.fromJSON(data);
      return (
        holdsFields(decoded, data) && holdsFields(message.decode(message.encode(decoded).finish()), decoded)
      );
    } catch {
      return false;
    }
  };
}

export const isOrderCreated = payloadGuard(OrderCreatedData);
export const isOrderPaid = payloadGuard(OrderPaidData);
export const isPaymentSessionCreated = payloadGuard(PaymentSessionCreatedData);
export const isPaymentSucceeded = payloadGuard(PaymentSucceededData);
export const isPaymentFailed = payloadGuard(PaymentFailedData);
export const isTicketEvent = payloadGuard(TicketEventData);
