import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MenuItem } from '@oms/contracts';
import { MenuPrices, type MenuReader } from './menu-prices';

const item = (id: string, priceCents: number): MenuItem => ({
  id,
  name: id,
  description: '',
  priceCents,
  currency: 'usd',
});

/** A menu whose prices the test changes, counting the calls it gets. */
function fakeMenu(prices: Record<string, number>): MenuReader & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async getItems({ ids }) {
      calls.push(ids);
      await new Promise((resolve) => setImmediate(resolve));
      return { items: ids.filter((id) => id in prices).map((id) => item(id, prices[id]!)) };
    },
  };
}

test('items are read once and served from memory until the TTL passes', async () => {
  let now = 0;
  const prices = { pizza: 1000 };
  const menu = fakeMenu(prices);
  const cache = new MenuPrices(menu, 5000, () => now);

  assert.equal((await cache.items(['pizza']))[0]!.priceCents, 1000);
  prices.pizza = 1200;
  now = 4999;
  assert.equal((await cache.items(['pizza']))[0]!.priceCents, 1000);
  assert.equal(menu.calls.length, 1);

  now = 5000;
  assert.equal((await cache.items(['pizza']))[0]!.priceCents, 1200, 'a price change is seen after the TTL');
  assert.equal(menu.calls.length, 2);
});

test('only the missing items are asked for', async () => {
  const menu = fakeMenu({ pizza: 1000, soup: 500 });
  const cache = new MenuPrices(menu, 5000, () => 0);
  await cache.items(['pizza']);
  const items = await cache.items(['pizza', 'soup']);
  assert.deepEqual(items.map((i) => i.id).sort(), ['pizza', 'soup']);
  assert.deepEqual(menu.calls, [['pizza'], ['soup']]);
});

test('an unknown item is not remembered: it can be ordered as soon as it is on the menu', async () => {
  const prices: Record<string, number> = {};
  const menu = fakeMenu(prices);
  const cache = new MenuPrices(menu, 5000, () => 0);
  assert.deepEqual(await cache.items(['new-dish']), []);
  prices['new-dish'] = 900;
  assert.equal((await cache.items(['new-dish']))[0]?.priceCents, 900);
});

test('concurrent misses for the same items share one call', async () => {
  const menu = fakeMenu({ pizza: 1000 });
  const cache = new MenuPrices(menu, 5000, () => 0);
  const results = await Promise.all(Array.from({ length: 10 }, () => cache.items(['pizza'])));
  assert.equal(menu.calls.length, 1);
  assert.ok(results.every((items) => items[0]?.priceCents === 1000));
});

test('a TTL of 0 asks the menu every time', async () => {
  const menu = fakeMenu({ pizza: 1000 });
  const cache = new MenuPrices(menu, 0, () => 0);
  await cache.items(['pizza']);
  await cache.items(['pizza']);
  assert.equal(menu.calls.length, 2);
});

test('a failed call is not remembered', async () => {
  let fail = true;
  const menu: MenuReader = {
    async getItems({ ids }) {
      if (fail) throw new Error('menu is down');
      return { items: ids.map((id) => item(id, 100)) };
    },
  };
  const cache = new MenuPrices(menu, 5000, () => 0);
  await assert.rejects(cache.items(['pizza']), /menu is down/);
  fail = false;
  assert.equal((await cache.items(['pizza']))[0]?.priceCents, 100);
});
