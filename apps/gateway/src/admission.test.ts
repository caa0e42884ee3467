import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderServiceService } from '@oms/contracts';
import { AdaptiveConcurrencyLimit } from '@oms/resilience';
import { waitFor } from '@oms/testing';
import { buildTestApp, fakeBackends, fakeClient, sampleOrder } from '../test/test-support';
import { refusalRetryAfterSeconds } from './admission';

/** A limit of exactly `n` concurrent requests that never adapts (the target is never missed). */
const fixedLimit = (n: number) =>
  new AdaptiveConcurrencyLimit({ initial: n, min: n, max: n, latencyTargetMs: 60_000 });

/** An order backend whose creates wait until the test lets them finish. */
function heldCreates() {
  const waiting: (() => void)[] = [];
  const backends = fakeBackends({
    order: fakeClient(OrderServiceService, {
      createOrder: async ({ customerId }) => {
        await new Promise<void>((resolve) => waiting.push(resolve));
        return sampleOrder({ customerId });
      },
      getOrder: async ({ customerId, orderId }) => sampleOrder({ id: orderId, customerId }),
    }),
  });
  return { backends, waiting, finishAll: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

const create = {
  method: 'POST' as const,
  url: '/v1/customers/alice/orders',
  headers: { 'content-type': 'application/json' },
  payload: { items: [{ itemId: 'margherita', quantity: 1 }] },
};

test('a write beyond the limit gets 503 with retry-after at once, and the admitted ones finish', async () => {
  const refused: string[] = [];
  const held = heldCreates();
  const { app } = await buildTestApp({
    backends: held.backends,
    admission: { reads: fixedLimit(4), writes: fixedLimit(2), onRefused: (scope) => refused.push(scope) },
  });
  const admitted = [app.inject(create), app.inject(create)];
  await waitFor('two creates in flight', () => held.waiting.length === 2, { intervalMs: 5 });

  const started = Date.now();
  const third = await app.inject(create);
  assert.ok(Date.now() - started < 1000, 'the refusal does not wait for the work in flight');
  assert.equal(third.statusCode, 503);
  assert.match(String(third.headers['retry-after']), /^[123]$/);
  assert.equal(third.json().error.code, 'unavailable');
  assert.ok(third.headers['x-request-id'], 'a refusal is still stamped');
  assert.deepEqual(refused, ['writes']);

  // Reads have their own limit: a burst of writes does not starve them.
  const read = await app.inject({ method: 'GET', url: '/v1/customers/alice/orders/ord_1' });
  assert.equal(read.statusCode, 200);

  held.finishAll();
  assert.deepEqual(
    (await Promise.all(admitted)).map((answer) => answer.statusCode),
    [201, 201],
  );
  const afterwards = app.inject(create);
  await waitFor('the next create in flight', () => held.waiting.length === 1, { intervalMs: 5 });
  held.finishAll();
  assert.equal((await afterwards).statusCode, 201, 'finished requests give their places back');
});

test('health, readiness and the API description are never refused', async () => {
  const refuseAll = { tryAcquire: () => undefined };
  const { app } = await buildTestApp({ admission: { reads: refuseAll, writes: refuseAll } });
  for (const url of ['/healthz', '/openapi.json']) {
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/v1/menu' })).statusCode, 503);
});

test('refused clients are told to come back after 1, 2 or 3 s, so that a crowd refused together spreads out', () => {
  const cases: [number, number][] = [
    [0, 1],
    [0.34, 2],
    [0.999, 3],
  ];
  for (const [random, seconds] of cases)
    assert.equal(
      refusalRetryAfterSeconds(() => random),
      seconds,
    );
  const told = new Set(Array.from({ length: 200 }, () => refusalRetryAfterSeconds()));
  assert.deepEqual([...told].sort(), [1, 2, 3]);
});
