import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
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
  {
    name: 'an order id with a NUL',
    method: 'GET',
    url: `${ORDERS}/ord-1%00`,
    status: 400,
    code: 'invalid_argument',
    details: [
      { in: 'params', path: '/orderId', message: 'must match pattern "^[^\\u0000-\\u001f\\u007f]*$"' },
    ],
  },
  {
    name: 'cancelling an order id with a control character',
    url: `${ORDERS}/ord%01x/cancel`,
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'a ticket order id with a NUL',
    method: 'GET',
    url: '/v1/kitchen/tickets?orderId=a%00',
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'a cursor with a control character',
    method: 'GET',
    url: `${ORDERS}?cursor=abc%00`,
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'menu item name with a NUL',
    method: 'POST',
    url: '/v1/admin/menu',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name: 'a\u0000b', description: '', priceCents: 1, currency: 'usd' },
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'menu item description with a control character',
    method: 'POST',
    url: '/v1/admin/menu',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name: 'X', description: 'nul\u0000', priceCents: 1, currency: 'usd' },
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

test('a path parameter longer than the router takes is a 400 invalid_argument, not a 414', async () => {
  const { app } = await built;
  const response = await app.inject({ method: 'GET', url: `/v1/menu/${'a'.repeat(300)}` });
  assert.equal(response.statusCode, 400, response.body);
  assert.equal((response.json() as { error: { code: string } }).error.code, 'invalid_argument');
});

/** Sends raw bytes, as a client that does not speak HTTP properly would, and reads until the server closes. */
function exchangeRaw(port: number, request: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from(request, 'latin1')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}

const PARSER_REFUSALS = [
  {
    name: 'a NUL byte in a header value',
    request: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Test: a\x00b\r\n\r\n',
    status: 400,
    code: 'invalid_argument',
  },
  {
    name: 'headers over 16 KiB',
    request: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Test: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    code: 'headers_too_large',
  },
  {
    name: 'broken chunked framing',
    request: `POST ${ORDERS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    status: 400,
    code: 'invalid_argument',
  },
];

/** A gateway listening on a free port, for what app.inject() cannot send: bytes that are not valid HTTP. */
async function listeningGateway(t: { after: (fn: () => Promise<unknown>) => void }): Promise<number> {
  const { app } = await buildTestApp();
  t.after(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

function assertEnvelope(answer: { head: string; body: string }, status: number, code: string, name: string) {
  assert.match(answer.head, new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${answer.head}`);
  assert.match(answer.head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i, name);
  assert.match(answer.head, /\r\nx-request-id: \S+/i, name);
  assert.match(answer.head, /\r\ntraceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]/i, name);
  const parsed = JSON.parse(answer.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(parsed), ['error'], name);
  assert.equal(parsed.error.code, code, name);
  assert.equal(typeof parsed.error.message, 'string', name);
}

test('requests the HTTP parser refuses still get the error envelope, request id and traceparent', async (t) => {
  const port = await listeningGateway(t);
  for (const c of PARSER_REFUSALS)
    assertEnvelope(await exchangeRaw(port, c.request), c.status, c.code, c.name);
});

test('an HTTP/1.1 request without Host is a 400 with the envelope; HTTP/1.0 needs none', async (t) => {
  const port = await listeningGateway(t);
  const missing = await exchangeRaw(port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
  assertEnvelope(missing, 400, 'invalid_argument', 'HTTP/1.1 without Host');
  const empty = await exchangeRaw(port, 'GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n');
  assert.match(empty.head, /^HTTP\/1\.1 200 /, 'an empty Host is allowed (RFC 9112 §3.2)');
  const http10 = await exchangeRaw(port, 'GET /healthz HTTP/1.0\r\n\r\n');
  assert.match(http10.head, /^HTTP\/1\.1 200 /);
});

test('a menu item description may break lines (tab, CR, LF are not refused as control characters)', async () => {
  const { app } = await built;
  const response = await app.inject({
    method: 'POST',
    url: '/v1/admin/menu',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name: 'Two lines', description: 'first\r\nsecond\tend', priceCents: 1, currency: 'usd' },
  });
  assert.equal(response.statusCode, 201, response.body);
});
