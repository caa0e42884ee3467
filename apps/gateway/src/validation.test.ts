import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, ADMIN_TOKEN } from '../test/test-support';

const built = buildTestApp();
after(async () => (await built).app.close());

const line = (itemId = 'margherita', quantity: unknown = 1) => ({ itemId, quantity });
const ORDERS = '/v1/customers/alice/orders';

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'PUT';
  url?: string;
  headers?: Record<string, string>;
  payload?: unknown;
  status: number;
  code: string;
  details?: unknown[];
}

const CASES: Case[] = [
  {
    name: 'not JSON',
    headers: { 'content-type': 'application/json' },
    payload: '{"items": [',
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'JSON sent as text/plain',
    headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify({ items: [line()] }),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'JSON sent as form data',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: JSON.stringify({ items: [line()] }),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'body over 64 KiB',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ items: [line()], pad: 'x'.repeat(65 * 1024) }),
    status: 413,
    code: 'payload_too_large',
  },
  { name: 'no body', status: 400, code: 'invalid_argument' },
  { name: 'body is an array', payload: [line()], status: 400, code: 'invalid_argument' },
  {
    name: 'unknown fields, at every depth',
    payload: { items: [{ ...line(), foo: 1 }], extra: true },
    status: 400,
    code: 'invalid_argument',
    details: [
      { path: '/extra', message: 'unknown field' },
      { path: '/items/0/foo', message: 'unknown field' },
    ],
  },
  {
    name: 'quantity 0',
    payload: { items: [line('margherita', 0)] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items/0/quantity', message: 'must be >= 1' }],
  },
  {
    name: 'quantity 101',
    payload: { items: [line('margherita', 101)] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items/0/quantity', message: 'must be <= 100' }],
  },
  {
    name: 'quantity 1.5',
    payload: { items: [line('margherita', 1.5)] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items/0/quantity', message: 'must be integer' }],
  },
  {
    name: 'quantity "2" (no coercion)',
    payload: { items: [line('margherita', '2')] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items/0/quantity', message: 'must be integer' }],
  },
  {
    name: 'missing quantity',
    payload: { items: [{ itemId: 'margherita' }] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items/0/quantity', message: 'required' }],
  },
  { name: 'bad itemId', payload: { items: [line('not an id!')] }, status: 400, code: 'invalid_argument' },
  {
    name: '0 lines',
    payload: { items: [] },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items', message: 'must NOT have fewer than 1 items' }],
  },
  {
    name: '51 lines',
    payload: { items: Array.from({ length: 51 }, (_, i) => line(`item-${i}`)) },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/items', message: 'must NOT have more than 50 items' }],
  },
  {
    name: 'merged quantity over 100',
    payload: { items: [line('margherita', 60), line('tiramisu', 1), line('margherita', 41)] },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'customerId with a bad character',
    url: '/v1/customers/al%20ice/orders',
    payload: { items: [line()] },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'customerId of 65 characters',
    url: `/v1/customers/${'a'.repeat(65)}/orders`,
    payload: { items: [line()] },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'empty Idempotency-Key',
    headers: { 'idempotency-key': '' },
    payload: { items: [line()] },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'Idempotency-Key of 256 characters',
    headers: { 'idempotency-key': 'k'.repeat(256) },
    payload: { items: [line()] },
    status: 400,
    code: 'invalid_argument',
    details: [{ in: 'headers', path: '/idempotency-key', message: 'must NOT have more than 255 characters' }],
  },
  { name: 'limit 0', method: 'GET', url: `${ORDERS}?limit=0`, status: 400, code: 'invalid_argument' },
  { name: 'limit 101', method: 'GET', url: `${ORDERS}?limit=101`, status: 400, code: 'invalid_argument' },
  { name: 'limit 1.5', method: 'GET', url: `${ORDERS}?limit=1.5`, status: 400, code: 'invalid_argument' },
  { name: 'limit abc', method: 'GET', url: `${ORDERS}?limit=abc`, status: 400, code: 'invalid_argument' },
  {
    name: 'limit given twice',
    method: 'GET',
    url: `${ORDERS}?limit=1&limit=2`,
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    url: `${ORDERS}?sort=asc`,
    status: 400,
    code: 'invalid_argument',
    details: [{ in: 'querystring', path: '/sort', message: 'unknown field' }],
  },
  {
    name: 'bad ticket status',
    method: 'GET',
    url: '/v1/kitchen/tickets?status=burnt',
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'cancel with a body field',
    url: `${ORDERS}/ord-1/cancel`,
    payload: { reason: 'x' },
    status: 400,
    code: 'invalid_argument',
    details: [{ path: '/reason', message: 'unknown field' }],
  },
  {
    name: 'admin without a token',
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    payload: { available: 1 },
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'admin with a wrong token',
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    headers: { authorization: 'Bearer nope' },
    payload: { available: 1 },
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'admin with a longer wrong token',
    method: 'GET',
    url: '/v1/admin/dead-letters',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'admin with another scheme',
    method: 'GET',
    url: '/v1/admin/dead-letters',
    headers: { authorization: `Basic ${ADMIN_TOKEN}` },
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'admin unauthenticated before the body is read',
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    headers: { 'content-type': 'application/json' },
    payload: '{bad',
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'negative stock',
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { available: -1 },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'stock as a string',
    method: 'PUT',
    url: '/v1/admin/stock/margherita',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { available: '5' },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'menu item with uppercase currency',
    method: 'POST',
    url: '/v1/admin/menu',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name: 'X', description: '', priceCents: 1, currency: 'USD' },
    status: 400,
    code: 'invalid_argument',
  },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing', status: 404, code: 'not_found' },
  { name: 'malformed URL', method: 'GET', url: '/v1/menu/%zz', status: 400, code: 'invalid_argument' },
];

for (const c of CASES) {
  test(`${c.name} → ${c.status} ${c.code}`, async () => {
    const { app } = await built;
    const response = await app.inject({
      method: c.method ?? 'POST',
      url: c.url ?? ORDERS,
      headers: c.headers,
      ...(c.payload === undefined ? {} : { payload: c.payload as string }),
    });
    assert.equal(response.statusCode, c.status, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json; charset=utf-8$/);
    const body = response.json() as { error: { code: string; message: string; details?: unknown[] } };
    assert.equal(body.error.code, c.code);
    assert.equal(typeof body.error.message, 'string');
    assert.deepEqual(Object.keys(body), ['error']);
    if (c.details) assert.deepEqual(body.error.details, c.details);
    if (c.status === 401) assert.match(String(response.headers['www-authenticate']), /^Bearer/);
  });
}

test('lines with the same itemId are merged before the order service sees them', async () => {
  const { buildTestApp: build, fakeBackends, fakeClient } = await import('../test/test-support');
  const { OrderServiceService } = await import('@oms/contracts');
  const seen: unknown[] = [];
  const backends = fakeBackends();
  const { app } = await build({
    backends: {
      ...backends,
      order: fakeClient(OrderServiceService, {
        createOrder: async (request) => {
          seen.push(request.items);
          return backends.order.createOrder(request);
        },
      }),
    },
  });
  const response = await app.inject({
    method: 'POST',
    url: ORDERS,
    payload: { items: [line('margherita', 60), line('tiramisu', 1), line('margherita', 40)] },
  });
  assert.equal(response.statusCode, 201);
  assert.deepEqual(seen, [
    [
      { itemId: 'margherita', quantity: 100 },
      { itemId: 'tiramisu', quantity: 1 },
    ],
  ]);
  await app.close();
});

test('a valid list query is converted (limit=5 is the number 5)', async () => {
  const { buildTestApp: build, fakeBackends, fakeClient } = await import('../test/test-support');
  const { OrderServiceService } = await import('@oms/contracts');
  const seen: unknown[] = [];
  const { app } = await build({
    backends: {
      ...fakeBackends(),
      order: fakeClient(OrderServiceService, {
        listOrders: async (request) => {
          seen.push(request);
          return { orders: [], nextCursor: 'next-page' };
        },
      }),
    },
  });
  const first = await app.inject({ method: 'GET', url: `${ORDERS}?limit=5&cursor=abc` });
  assert.equal(first.statusCode, 200);
  assert.deepEqual(first.json(), { orders: [], nextCursor: 'next-page' });
  await app.inject({ method: 'GET', url: ORDERS });
  assert.deepEqual(seen, [
    { customerId: 'alice', limit: 5, cursor: 'abc' },
    { customerId: 'alice', limit: 20, cursor: '' },
  ]);
  await app.close();
});
