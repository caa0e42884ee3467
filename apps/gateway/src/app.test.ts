import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import {
  DeadLetterServiceService,
  KitchenServiceService,
  MenuServiceService,
  OrderServiceService,
  OrderStatus,
  PaymentServiceService,
  StockServiceService,
  TicketStatus,
  type StripeWebhookRequest,
} from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import {
  ADMIN_TOKEN,
  buildTestApp,
  fakeBackends,
  fakeClient,
  sampleOrder,
  unavailable,
} from '../test/test-support';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

test('every answer carries x-request-id and traceparent; a sent x-request-id is echoed', async () => {
  const { app } = await buildTestApp();
  for (const url of ['/healthz', '/v1/menu', '/v1/nowhere', '/v1/customers/bad id/orders']) {
    const generated = await app.inject({ method: 'GET', url });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/, url);
    assert.match(String(generated.headers.traceparent), TRACEPARENT, url);
    const echoed = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'client-req-42' } });
    assert.equal(echoed.headers['x-request-id'], 'client-req-42', url);
  }
  const errored = await app.inject({
    method: 'POST',
    url: '/v1/customers/alice/orders',
    headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
    payload: '{',
  });
  assert.equal(errored.headers['x-request-id'], 'r-1');
  assert.match(String(errored.headers.traceparent), TRACEPARENT);
  await app.close();
});

test('an unusable x-request-id is replaced; an incoming trace id is kept when no span exists', async () => {
  const { app } = await buildTestApp();
  const response = await app.inject({
    method: 'GET',
    url: '/healthz',
    headers: {
      'x-request-id': 'x'.repeat(200),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  });
  assert.notEqual(response.headers['x-request-id'], 'x'.repeat(200));
  assert.match(String(response.headers.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  await app.close();
});

test('the traceparent is the active span when there is one', async () => {
  const { trace, context, ROOT_CONTEXT, TraceFlags } = await import('@opentelemetry/api');
  // A minimal synchronous context manager: enough to make a span active for one call.
  let active = ROOT_CONTEXT;
  context.setGlobalContextManager({
    active: () => active,
    with: (ctx, fn, thisArg, ...args) => {
      const previous = active;
      active = ctx;
      try {
        return fn.call(thisArg, ...args);
      } finally {
        active = previous;
      }
    },
    bind: (_ctx, target) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  });
  try {
    const { currentTraceparent } = await import('@oms/telemetry');
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    });
    const value = context.with(trace.setSpan(ROOT_CONTEXT, span), () => currentTraceparent(undefined));
    assert.equal(value, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  } finally {
    context.disable();
  }
});

test('health and readiness', async () => {
  const { app, known, shutDown } = await buildTestApp();
  assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), {
    status: 'ready',
    dependencies: { order: 'ok', menu: 'ok', stock: 'ok', payment: 'ok', kitchen: 'ok' },
  });

  known.kitchen = 0; // optional: reported, still ready
  const optionalDown = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(optionalDown.statusCode, 200);
  assert.equal(optionalDown.json().dependencies.kitchen, 'unavailable');

  delete known.stock;
  const notReady = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(notReady.statusCode, 503);
  assert.equal(notReady.json().status, 'not_ready');
  assert.equal(notReady.json().dependencies.stock, 'unavailable');
  assert.equal(notReady.json().error.code, 'unavailable');
  assert.deepEqual(notReady.json().error.details, [{ dependency: 'stock', status: 'unavailable' }]);

  known.stock = 2;
  shutDown();
  const stopping = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(stopping.statusCode, 503);
  assert.equal(stopping.json().status, 'shutting_down');
  assert.equal(stopping.headers.connection, 'close');
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  await app.close();
});

test('orders are mapped to the public JSON', async () => {
  const order = sampleOrder({
    id: 'ord-9',
    status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
    paymentUrl: 'https://checkout.stripe.com/c/pay/cs_test_1',
    history: [
      { status: OrderStatus.ORDER_STATUS_PENDING, at: '2025-01-01T00:00:00.000Z' },
      { status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT, at: '2025-01-01T00:00:01.000Z' },
    ],
  });
  const backends = fakeBackends({ order: fakeClient(OrderServiceService, { getOrder: async () => order }) });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({ method: 'GET', url: '/v1/customers/alice/orders/ord-9' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), {
    id: 'ord-9',
    customerId: 'alice',
    status: 'awaiting_payment',
    items: [
      { itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
    ],
    totalCents: 2500,
    currency: 'usd',
    paymentUrl: 'https://checkout.stripe.com/c/pay/cs_test_1',
    history: [
      { status: 'pending', at: '2025-01-01T00:00:00.000Z' },
      { status: 'awaiting_payment', at: '2025-01-01T00:00:01.000Z' },
    ],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  });
  await app.close();
});

test("another customer's order is a 404", async () => {
  const backends = fakeBackends({
    order: fakeClient(OrderServiceService, { getOrder: async () => sampleOrder({ customerId: 'bob' }) }),
  });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({ method: 'GET', url: '/v1/customers/alice/orders/ord-1' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.json().error.code, 'not_found');
  assert.doesNotMatch(response.body, /bob/);
  await app.close();
});

test('create answers 201 with a location; backend business errors keep their precise codes', async () => {
  const { app } = await buildTestApp();
  const created = await app.inject({
    method: 'POST',
    url: '/v1/customers/alice/orders',
    payload: { items: [{ itemId: 'margherita', quantity: 1 }] },
  });
  assert.equal(created.statusCode, 201);
  assert.equal(created.headers.location, '/v1/customers/alice/orders/ord-1');
  await app.close();

  const failing = await buildTestApp({
    backends: fakeBackends({
      order: fakeClient(OrderServiceService, {
        createOrder: async () => {
          throw new RpcError(status.INVALID_ARGUMENT, 'unknown_item', 'unknown items', [{ itemId: 'ghost' }]);
        },
        cancelOrder: async () => {
          throw new RpcError(status.FAILED_PRECONDITION, 'not_cancellable', 'order ord-1 is paid');
        },
      }),
    }),
  });
  const unknown = await failing.app.inject({
    method: 'POST',
    url: '/v1/customers/alice/orders',
    payload: { items: [{ itemId: 'ghost', quantity: 1 }] },
  });
  assert.equal(unknown.statusCode, 400);
  assert.deepEqual(unknown.json(), {
    error: { code: 'unknown_item', message: 'unknown items', details: [{ itemId: 'ghost' }] },
  });
  const cancel = await failing.app.inject({ method: 'POST', url: '/v1/customers/alice/orders/ord-1/cancel' });
  assert.equal(cancel.statusCode, 409);
  assert.equal(cancel.json().error.code, 'not_cancellable');
  await failing.app.close();
});

test('an unexpected failure is a bare 500', async () => {
  const backends = fakeBackends({
    order: fakeClient(OrderServiceService, {
      listOrders: async () => {
        throw new Error('secret connection string mongodb://admin:hunter2@db');
      },
      getOrder: async () => {
        throw new RpcError(status.INTERNAL, 'internal', 'E11000 duplicate key at orders.secret');
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  for (const url of ['/v1/customers/alice/orders', '/v1/customers/alice/orders/ord-1']) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: { code: 'internal', message: 'internal error' } });
  }
  await app.close();
});

test('the Stripe webhook forwards the exact raw bytes and the signature', async () => {
  const seen: StripeWebhookRequest[] = [];
  const backends = fakeBackends({
    payment: fakeClient(PaymentServiceService, {
      handleStripeWebhook: async (request) => {
        seen.push(request);
        if (request.signature !== 't=1,v1=good')
          throw new RpcError(status.INVALID_ARGUMENT, 'invalid_signature', 'bad signature');
        return { received: true };
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  const raw =
    '{\n  "id": "evt_1",   "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}, "extra": {"__proto__": 1}\n}';
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/stripe',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': 't=1,v1=good' },
    payload: raw,
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { received: true });
  assert.equal(seen[0]!.rawBody.toString('utf8'), raw);

  const bad = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/stripe',
    headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=forged' },
    payload: raw,
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'invalid_signature');

  const missing = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/stripe',
    headers: { 'content-type': 'application/json' },
    payload: raw,
  });
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.json().error.code, 'invalid_signature');
  assert.equal(seen.length, 2);
  await app.close();
});

const event = (object: Record<string, unknown>, top: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'evt_1', type: 'checkout.session.expired', data: { object }, ...top });

const NOT_STRIPE_EVENTS: [string, string][] = [
  ['an operator for the order id', event({ metadata: { orderId: { $ne: null } } })],
  ['an operator for the client reference', event({ client_reference_id: { $gt: '' } })],
  ['a NUL in the order id', event({ metadata: { orderId: 'ord_\u0000' } })],
  ['a number as a metadata value', event({ metadata: { orderId: 'ord_1', customerId: 7 } })],
  ['a string amount', event({ amount_total: '100' })],
  ['an object id', event({}, { id: { $gt: '' } })],
  ['an empty id', event({}, { id: '' })],
  ['no data', JSON.stringify({ id: 'evt_1', type: 'checkout.session.expired' })],
  ['a null data.object', JSON.stringify({ id: 'evt_1', type: 'x', data: { object: null } })],
  ['an array', '[{"id":"evt_1"}]'],
  ['null', 'null'],
];

test('a JSON webhook body that is no Stripe event is a 400 before the payment service sees it', async () => {
  const seen: StripeWebhookRequest[] = [];
  const backends = fakeBackends({
    payment: fakeClient(PaymentServiceService, {
      handleStripeWebhook: async (request) => {
        seen.push(request);
        return { received: true };
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=any' },
      payload,
    });
  for (const [name, payload] of NOT_STRIPE_EVENTS) {
    const response = await post(payload);
    assert.equal(response.statusCode, 400, name);
    assert.equal(response.json().error.code, 'invalid_argument', name);
  }
  assert.equal(seen.length, 0);
  // Genuine shapes go on, and so does a body that is not JSON: the signature check refuses that.
  const genuine = event({
    id: 'cs_1',
    client_reference_id: 'ord_1',
    metadata: { orderId: 'ord_1', note: 'line one\nline two' },
    amount_total: 2500,
    currency: 'usd',
    payment_status: 'unpaid',
  });
  assert.equal((await post(genuine)).statusCode, 200);
  assert.equal((await post(event({ metadata: null, amount_total: null, currency: null }))).statusCode, 200);
  assert.equal((await post('not json')).statusCode, 200);
  assert.equal(seen.length, 3);
  await app.close();
});

test('admin: set stock (404 off the menu) and create a menu item', async () => {
  const setCalls: unknown[] = [];
  const ensured: unknown[] = [];
  const base = fakeBackends();
  const backends = fakeBackends({
    stock: fakeClient(StockServiceService, {
      setAvailable: async (request) => {
        setCalls.push(request);
        return { itemId: request.itemId, available: request.available, held: 0, committed: 0 };
      },
      ensureItem: async (request) => {
        ensured.push(request);
        return { itemId: request.itemId, available: 0, held: 0, committed: 0 };
      },
      getAvailability: base.stock.getAvailability,
    }),
  });
  const { app } = await buildTestApp({ backends });
  const set = await app.inject({
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    headers: admin,
    payload: { available: 25 },
  });
  assert.equal(set.statusCode, 200);
  assert.deepEqual(set.json(), { itemId: 'margherita', available: 25 });
  const missing = await app.inject({
    method: 'PUT',
    url: '/v1/admin/stock/ghost',
    headers: admin,
    payload: { available: 25 },
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(setCalls.length, 1);

  const item = { id: 'calzone', name: 'Calzone', description: 'Folded', priceCents: 1400, currency: 'usd' };
  const created = await app.inject({ method: 'POST', url: '/v1/admin/menu', headers: admin, payload: item });
  assert.equal(created.statusCode, 201);
  assert.deepEqual(created.json(), { ...item, available: 0 });
  assert.equal(created.headers.location, '/v1/menu/calzone');
  assert.deepEqual(ensured, [{ itemId: 'calzone', initialAvailable: 0 }]);
  await app.close();
});

test('admin: a menu item is still created when stock is down (degraded)', async () => {
  const backends = fakeBackends({
    stock: fakeClient(StockServiceService, {
      ensureItem: async () => {
        throw unavailable('stock');
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  const created = await app.inject({
    method: 'POST',
    url: '/v1/admin/menu',
    headers: admin,
    payload: { name: 'Soup', description: '', priceCents: 500, currency: 'usd' },
  });
  assert.equal(created.statusCode, 201);
  assert.equal(created.headers['x-degraded'], 'stock');
  assert.equal(created.json().available, null);
  assert.match(created.json().id, /^item-[0-9a-f]{8}$/);
  await app.close();
});

test('admin: dead letters are merged across services; ones that fail are reported', async () => {
  const replayed: string[] = [];
  const letter = { eventId: 'evt-1', type: 'order.created', lastError: 'boom', attempts: 5, traceId: 'abc' };
  const backends = fakeBackends({
    deadLetters: {
      payment: fakeClient(DeadLetterServiceService, {
        listDeadLetters: async () => ({
          queues: [{ queue: 'payment.order-created.dlq', count: 1, newest: [letter] }],
        }),
        replayDeadLetters: async ({ queue }) => {
          replayed.push(`payment:${queue}`);
          return { replayed: 1 };
        },
      }),
      order: fakeClient(DeadLetterServiceService, {
        listDeadLetters: async () => ({
          queues: [{ queue: 'order.payment-events.dlq', count: 0, newest: [] }],
        }),
      }),
      stock: fakeClient(DeadLetterServiceService, {
        listDeadLetters: async () => {
          throw unavailable('stock');
        },
      }),
      kitchen: fakeClient(DeadLetterServiceService),
    },
  });
  const { app } = await buildTestApp({ backends });
  const list = await app.inject({ method: 'GET', url: '/v1/admin/dead-letters', headers: admin });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(list.json(), {
    queues: [
      { service: 'payment', queue: 'payment.order-created.dlq', count: 1, newest: [letter] },
      { service: 'order', queue: 'order.payment-events.dlq', count: 0, newest: [] },
    ],
    unreachable: [
      { service: 'stock', code: 'unavailable' },
      { service: 'kitchen', code: 'unimplemented' },
    ],
  });

  const replay = await app.inject({
    method: 'POST',
    url: '/v1/admin/dead-letters/payment.order-created.dlq/replay',
    headers: admin,
  });
  assert.equal(replay.statusCode, 200);
  assert.deepEqual(replay.json(), {
    queue: 'payment.order-created.dlq',
    replayed: 1,
    services: ['payment'],
    unreachable: [{ service: 'stock', code: 'unavailable' }],
  });
  assert.deepEqual(replayed, ['payment:payment.order-created.dlq']);

  // Not listed by anyone who answered, but stock could not be asked: maybe it is stock's.
  const unknown = await app.inject({
    method: 'POST',
    url: '/v1/admin/dead-letters/stock.x.dlq/replay',
    headers: admin,
  });
  assert.equal(unknown.statusCode, 503);
  await app.close();

  const allUp = await buildTestApp();
  const none = await allUp.app.inject({
    method: 'POST',
    url: '/v1/admin/dead-letters/nope/replay',
    headers: admin,
  });
  assert.equal(none.statusCode, 404);
  await allUp.app.close();
});

test('kitchen tickets are listed with nulls for times not reached', async () => {
  const seen: unknown[] = [];
  const backends = fakeBackends({
    kitchen: fakeClient(KitchenServiceService, {
      listTickets: async (request) => {
        seen.push(request);
        return {
          tickets: [
            {
              id: 't-1',
              orderId: 'ord-1',
              status: TicketStatus.TICKET_STATUS_QUEUED,
              items: [{ itemId: 'margherita', name: 'Margherita', quantity: 2 }],
              createdAt: '2025-01-01T00:00:00.000Z',
              startedAt: '',
              readyAt: '',
            },
          ],
        };
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({
    method: 'GET',
    url: '/v1/kitchen/tickets?status=queued&orderId=ord-1',
  });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json().tickets[0], {
    id: 't-1',
    orderId: 'ord-1',
    status: 'queued',
    items: [{ itemId: 'margherita', name: 'Margherita', quantity: 2 }],
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: null,
    readyAt: null,
  });
  assert.deepEqual(seen, [{ status: 'queued', orderId: 'ord-1' }]);
  await app.close();
});

test('the OpenAPI document describes the API from the route schemas', async () => {
  const { app } = await buildTestApp();
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  const doc = response.json();
  assert.equal(doc.info.title, 'Order management system gateway');
  assert.equal(doc.info.version, '1.0.0');
  assert.match(doc.openapi, /^3\./);
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
  const create = doc.paths['/v1/customers/{customerId}/orders'].post;
  assert.ok(
    create.parameters.some(
      (p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key',
    ),
  );
  assert.ok(create.responses['201'] && create.responses['422'] && create.responses['400']);
  assert.equal(create.requestBody.content['application/json'].schema.additionalProperties, false);
  assert.deepEqual(doc.paths['/v1/admin/stock/{itemId}'].put.security, [{ bearer: [] }]);
  for (const path of [
    '/healthz',
    '/readyz',
    '/v1/menu',
    '/v1/menu/{itemId}',
    '/v1/customers/{customerId}/orders/{orderId}',
    '/v1/customers/{customerId}/orders/{orderId}/cancel',
    '/v1/kitchen/tickets',
    '/v1/webhooks/stripe',
    '/v1/admin/menu',
    '/v1/admin/dead-letters',
    '/v1/admin/dead-letters/{queue}/replay',
  ]) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(
    doc.components.schemas.ErrorBody && doc.components.schemas.Order && doc.components.schemas.MenuItem,
  );
  assert.equal(doc.paths['/openapi.json'], undefined);
  await app.close();
});

test('unused RPCs of the fakes answer UNIMPLEMENTED, mapped to a bare 500', async () => {
  const backends = fakeBackends({ menu: fakeClient(MenuServiceService) });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({ method: 'GET', url: '/v1/menu' });
  assert.equal(response.statusCode, 500);
  assert.deepEqual(response.json(), { error: { code: 'internal', message: 'internal error' } });
  await app.close();
});
