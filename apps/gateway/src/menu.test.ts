import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { MenuServiceService, StockServiceService } from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import { buildTestApp, fakeBackends, fakeClient, MENU, unavailable } from '../test/test-support';

test('the menu is joined with live availability (missing stock counts as 0)', async () => {
  const backends = fakeBackends({
    stock: fakeClient(StockServiceService, {
      getAvailability: async () => ({
        items: [{ itemId: 'margherita', available: 7, held: 3, committed: 1 }],
      }),
    }),
  });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({ method: 'GET', url: '/v1/menu' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['x-degraded'], undefined);
  assert.deepEqual(response.json(), {
    items: [
      { ...MENU[0], available: 7 },
      { ...MENU[1], available: 0 },
    ],
  });
  await app.close();
});

for (const [name, error] of [
  ['UNAVAILABLE', unavailable('stock')],
  ['DEADLINE_EXCEEDED', new RpcError(status.DEADLINE_EXCEEDED, 'timeout', 'deadline')],
  [
    'an open breaker',
    new RpcError(status.UNAVAILABLE, 'unavailable', 'stock is unavailable (circuit open)', [], 5),
  ],
] as const) {
  test(`stock failing with ${name}: the menu is served with available null and x-degraded: stock`, async () => {
    const backends = fakeBackends({
      stock: fakeClient(StockServiceService, {
        getAvailability: async () => {
          throw error;
        },
      }),
    });
    const { app } = await buildTestApp({ backends });
    const list = await app.inject({ method: 'GET', url: '/v1/menu' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.headers['x-degraded'], 'stock');
    assert.deepEqual(list.json(), { items: MENU.map((item) => ({ ...item, available: null })) });

    const one = await app.inject({ method: 'GET', url: '/v1/menu/margherita' });
    assert.equal(one.statusCode, 200);
    assert.equal(one.headers['x-degraded'], 'stock');
    assert.deepEqual(one.json(), { ...MENU[0], available: null });
    await app.close();
  });
}

test('one item: 200 with availability, 404 when not on the menu', async () => {
  const { app } = await buildTestApp();
  const found = await app.inject({ method: 'GET', url: '/v1/menu/tiramisu' });
  assert.deepEqual(found.json(), { ...MENU[1], available: 100 });
  const missing = await app.inject({ method: 'GET', url: '/v1/menu/pizza-hawaii' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'not_found');
  await app.close();
});

test('the menu service down is a 503 with retry-after (no fallback for the menu itself)', async () => {
  const backends = fakeBackends({
    menu: fakeClient(MenuServiceService, {
      listItems: async () => {
        throw new RpcError(status.UNAVAILABLE, 'unavailable', 'menu is unavailable (circuit open)', [], 5);
      },
    }),
  });
  const { app } = await buildTestApp({ backends });
  const response = await app.inject({ method: 'GET', url: '/v1/menu' });
  assert.equal(response.statusCode, 503);
  assert.equal(response.headers['retry-after'], '5');
  assert.deepEqual(response.json(), {
    error: { code: 'unavailable', message: 'a backend service is unavailable, retry later' },
  });
  await app.close();
});
