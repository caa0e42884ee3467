import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Order, OrderStatus, OrderServiceService, PROTO_FILES, PROTO_ROOT } from './index';

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
