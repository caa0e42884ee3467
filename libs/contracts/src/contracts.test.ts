import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  EventTypes,
  isOrderCreated,
  isOrderPaid,
  isPaymentFailed,
  isPaymentSessionCreated,
  isPaymentSucceeded,
  isTicketEvent,
  type MessageFns,
  Order,
  OrderCreatedData,
  OrderPaidData,
  OrderStatus,
  OrderServiceService,
  PaymentFailedData,
  PaymentSessionCreatedData,
  PaymentSucceededData,
  PROTO_FILES,
  PROTO_ROOT,
  TicketEventData,
} from './index';

test('an order survives the wire format unchanged, including integer cents', () => {
  const order: Order = {
    id: 'ord_1',
    customerId: 'c1',
    status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
    items: [
      { itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
    ],
    totalCents: 2500,
    currency: 'usd',
    paymentUrl: 'https://checkout.stripe.com/c/pay/cs_test_1',
    history: [{ status: OrderStatus.ORDER_STATUS_PENDING, at: '2026-01-01T00:00:00.000Z' }],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
  };
  assert.deepEqual(Order.decode(Order.encode(order).finish()), order);
});

test('service paths are the proto package names', () => {
  assert.equal(OrderServiceService.createOrder.path, '/oms.v1.OrderService/CreateOrder');
});

test('every proto file the reflection service loads exists', () => {
  for (const file of PROTO_FILES) assert.ok(existsSync(resolve(PROTO_ROOT, file)), file);
});

test('no RPC lets a caller set an order status: no request message has an OrderStatus field', () => {
  const requestsWithStatus: string[] = [];
  for (const file of PROTO_FILES) {
    const proto = readFileSync(resolve(PROTO_ROOT, file), 'utf8');
    const requests = [...proto.matchAll(/rpc\s+\w+\s*\(\s*(\w+)\s*\)/g)].map((match) => match[1]!);
    for (const request of requests) {
      // The request may be declared in another file: look for it in all of them.
      for (const other of PROTO_FILES) {
        const body = new RegExp(`message\\s+${request}\\s*\\{([^}]*)\\}`).exec(
          readFileSync(resolve(PROTO_ROOT, other), 'utf8'),
        )?.[1];
        if (body && /\bOrderStatus\s+\w+\s*=/.test(body)) requestsWithStatus.push(`${file}: ${request}`);
      }
    }
  }
  assert.ok(
    PROTO_FILES.some((file) => readFileSync(resolve(PROTO_ROOT, file), 'utf8').includes('enum OrderStatus')),
    'the check looks at the real protos',
  );
  assert.deepEqual(requestsWithStatus, []);
  assert.equal('advanceOrder' in OrderServiceService, false);
});

// Payloads exactly as the services put them on the wire (and in stored outbox documents).
const line = { itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250 };
/** One payload as sent, with its guard, and its proto JSON form (what the message makes of it). */
function wirePayload<T>(
  type: string,
  message: Pick<MessageFns<T>, 'fromJSON' | 'toJSON'>,
  guard: (data: unknown) => data is T,
  data: T,
) {
  return { type, guard, data, protoJson: () => message.toJSON(message.fromJSON(data)) };
}

const created = { orderId: 'ord_1', customerId: 'c1', items: [line], totalCents: 2500, currency: 'usd' };
const wirePayloads = [
  wirePayload(EventTypes.orderCreated, OrderCreatedData, isOrderCreated, created),
  wirePayload(EventTypes.orderPaid, OrderPaidData, isOrderPaid, {
    orderId: 'ord_1',
    customerId: 'c1',
    items: [line],
  }),
  wirePayload(EventTypes.paymentSessionCreated, PaymentSessionCreatedData, isPaymentSessionCreated, {
    orderId: 'ord_1',
    checkoutSessionId: 'cs_1',
    paymentUrl: 'https://checkout.stripe.com/c/pay/cs_1',
  }),
  wirePayload(EventTypes.paymentSucceeded, PaymentSucceededData, isPaymentSucceeded, {
    orderId: 'ord_1',
    checkoutSessionId: 'cs_1',
    amountCents: 2500,
    currency: 'usd',
  }),
  wirePayload(EventTypes.paymentFailed, PaymentFailedData, isPaymentFailed, {
    orderId: 'ord_1',
    reason: 'session_expired',
  }),
  wirePayload(EventTypes.ticketReady, TicketEventData, isTicketEvent, {
    orderId: 'ord_1',
    ticketId: 'tkt_1',
  }),
];

test('every event payload on the wire is accepted by its guard', () => {
  for (const { type, guard, data } of wirePayloads) {
    assert.equal(guard(JSON.parse(JSON.stringify(data))), true, type);
  }
});

test('the payload messages name their fields as the wire JSON does', () => {
  for (const { type, data, protoJson } of wirePayloads) {
    assert.deepEqual(protoJson(), data, type);
  }
});

test('a payload with a field missing is rejected, at the top or inside a line', () => {
  const { currency: _currency, ...withoutCurrency } = created;
  assert.equal(isOrderCreated(withoutCurrency), false);
  const { name: _name, ...lineWithoutName } = line;
  assert.equal(isOrderPaid({ orderId: 'ord_1', customerId: 'c1', items: [lineWithoutName] }), false);
  assert.equal(isTicketEvent({ orderId: 'ord_1' }), false);
  assert.equal(isPaymentSucceeded({ orderId: 'ord_1', checkoutSessionId: 'cs_1', currency: 'usd' }), false);
});

test('a payload with a field of the wrong type is rejected', () => {
  assert.equal(isOrderCreated({ ...created, totalCents: '2500' }), false);
  assert.equal(isOrderCreated({ ...created, totalCents: 25.5 }), false);
  assert.equal(isOrderCreated({ ...created, orderId: 1 }), false);
  assert.equal(isOrderCreated({ ...created, items: 'margherita' }), false);
  assert.equal(isOrderCreated({ ...created, items: [{ ...line, quantity: null }] }), false);
  assert.equal(
    isPaymentSucceeded({
      orderId: 'ord_1',
      checkoutSessionId: 'cs_1',
      amountCents: 2 ** 60,
      currency: 'usd',
    }),
    false,
  );
  assert.equal(isTicketEvent(null), false);
  assert.equal(isTicketEvent([]), false);
  assert.equal(isTicketEvent('ord_1'), false);
});

test('an empty string is a missing field (proto3 cannot tell them apart)', () => {
  assert.equal(isPaymentFailed({ orderId: 'ord_1', reason: '' }), false);
  assert.equal(isPaymentFailed({ orderId: '', reason: 'session_expired' }), false);
});

test('fields a newer producer adds do not make a payload malformed', () => {
  assert.equal(isTicketEvent({ orderId: 'ord_1', ticketId: 'tkt_1', station: 'pizza' }), true);
});
