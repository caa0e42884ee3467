import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { OrderServiceService, type CreateOrderRequest } from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import { pino } from 'pino';
import { IdempotencyGuard } from './idempotency';
import { requestIdForKey } from './routes/orders';
import {
  buildTestApp,
  fakeBackends,
  fakeClient,
  MemoryIdempotencyStore,
  sampleOrder,
} from '../test/test-support';

const URL = '/v1/customers/alice/orders';
const BODY = { items: [{ itemId: 'margherita', quantity: 2 }] };

/** An order backend that creates one order per distinct request id, slowly, and counts calls. */
function countingOrders(delayMs = 50, fail?: () => RpcError | undefined) {
  const calls: CreateOrderRequest[] = [];
  const byRequestId = new Map<string, string>();
  const order = fakeClient(OrderServiceService, {
    createOrder: async (request) => {
      calls.push(request);
      await sleep(delayMs);
      const error = fail?.();
      if (error) throw error;
      const id = byRequestId.get(request.requestId) ?? `ord-${byRequestId.size + 1}`;
      byRequestId.set(request.requestId, id);
      return sampleOrder({ id, customerId: request.customerId });
    },
  });
  return { calls, order };
}

async function appWith(order: ReturnType<typeof countingOrders>['order']) {
  return buildTestApp({ backends: { ...fakeBackends(), order } });
}

test('the same key and body replays the original answer', async () => {
  const orders = countingOrders(1);
  const { app } = await appWith(orders.order);
  const headers = { 'idempotency-key': 'key-1' };
  const first = await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  const second = await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  assert.equal(first.statusCode, 201);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.equal(second.statusCode, 201);
  assert.equal(second.headers['idempotent-replayed'], 'true');
  assert.equal(second.body, first.body);
  assert.equal(second.headers.location, first.headers.location);
  assert.equal(orders.calls.length, 1);
  assert.equal(orders.calls[0]!.requestId, requestIdForKey('alice', 'key-1'));
  assert.match(orders.calls[0]!.requestId, /^[0-9a-f]{64}$/);
  await app.close();
});

test('reordered or split lines are the same request', async () => {
  const orders = countingOrders(1);
  const { app } = await appWith(orders.order);
  const headers = { 'idempotency-key': 'key-order' };
  const a = {
    items: [
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 1 },
    ],
  };
  const b = {
    items: [
      { itemId: 'tiramisu', quantity: 1 },
      { itemId: 'margherita', quantity: 1 },
      { itemId: 'margherita', quantity: 1 },
    ],
  };
  assert.equal((await app.inject({ method: 'POST', url: URL, headers, payload: a })).statusCode, 201);
  const replay = await app.inject({ method: 'POST', url: URL, headers, payload: b });
  assert.equal(replay.statusCode, 201);
  assert.equal(replay.headers['idempotent-replayed'], 'true');
  await app.close();
});

test('the same key with a different body is a 422', async () => {
  const orders = countingOrders(1);
  const { app } = await appWith(orders.order);
  const headers = { 'idempotency-key': 'key-2' };
  await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  const reused = await app.inject({
    method: 'POST',
    url: URL,
    headers,
    payload: { items: [{ itemId: 'margherita', quantity: 3 }] },
  });
  assert.equal(reused.statusCode, 422);
  assert.equal(reused.json().error.code, 'idempotency_key_reused');
  assert.equal(orders.calls.length, 1);
  await app.close();
});

test('keys are scoped to the customer', async () => {
  const orders = countingOrders(1);
  const { app } = await appWith(orders.order);
  const headers = { 'idempotency-key': 'shared-key' };
  const alice = await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  const bob = await app.inject({ method: 'POST', url: '/v1/customers/bob/orders', headers, payload: BODY });
  assert.equal(bob.statusCode, 201);
  assert.equal(bob.headers['idempotent-replayed'], undefined);
  assert.notEqual(bob.json().id, alice.json().id);
  assert.equal(orders.calls.length, 2);
  await app.close();
});

test('10 concurrent requests with one key create one order, and all get it', async () => {
  const orders = countingOrders(150);
  const { app } = await appWith(orders.order);
  const responses = await Promise.all(
    Array.from({ length: 10 }, () =>
      app.inject({ method: 'POST', url: URL, headers: { 'idempotency-key': 'burst' }, payload: BODY }),
    ),
  );
  assert.equal(orders.calls.length, 1);
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    Array(10).fill(201),
  );
  const ids = new Set(responses.map((r) => r.json().id as string));
  assert.equal(ids.size, 1);
  assert.equal(responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 9);
  await app.close();
});

test('without a key, every request is a new order with a random request id', async () => {
  const orders = countingOrders(1);
  const { app } = await appWith(orders.order);
  await app.inject({ method: 'POST', url: URL, payload: BODY });
  await app.inject({ method: 'POST', url: URL, payload: BODY });
  assert.equal(orders.calls.length, 2);
  assert.notEqual(orders.calls[0]!.requestId, orders.calls[1]!.requestId);
  assert.ok(orders.calls.every((call) => call.requestId.length > 0));
  await app.close();
});

test('a failed create frees the key: a retry with it is attempted again', async () => {
  let failures = 1;
  const orders = countingOrders(1, () =>
    failures-- > 0
      ? new RpcError(status.FAILED_PRECONDITION, 'out_of_stock', 'not enough', [
          { item_id: 'margherita', requested: 2, available: 1 },
        ])
      : undefined,
  );
  const { app, idempotencyStore } = await appWith(orders.order);
  const headers = { 'idempotency-key': 'retry-me' };
  const failed = await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  assert.equal(failed.statusCode, 409);
  assert.deepEqual(failed.json(), {
    error: {
      code: 'out_of_stock',
      message: 'not enough',
      details: [{ itemId: 'margherita', requested: 2, available: 1 }],
    },
  });
  assert.equal(idempotencyStore.records.size, 0);
  const retried = await app.inject({ method: 'POST', url: URL, headers, payload: BODY });
  assert.equal(retried.statusCode, 201);
  assert.equal(retried.headers['idempotent-replayed'], undefined);
  assert.equal(orders.calls.length, 2);
  assert.equal(orders.calls[0]!.requestId, orders.calls[1]!.requestId);
  await app.close();
});

test('a store that is down is a 503, not a 500', async () => {
  const store = new MemoryIdempotencyStore();
  store.begin = async () => {
    throw new Error('connection refused');
  };
  const { app } = await buildTestApp({ idempotencyStore: store });
  const response = await app.inject({
    method: 'POST',
    url: URL,
    headers: { 'idempotency-key': 'k' },
    payload: BODY,
  });
  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error.code, 'unavailable');
  assert.equal(response.headers['retry-after'], '1');
  await app.close();
});

const silent = pino({ level: 'silent' });
const created = { statusCode: 201, body: '{"id":"ord-1"}', headers: {} };

test('a request still in progress past the wait is a 409 request_in_progress', async () => {
  const store = new MemoryIdempotencyStore();
  const guard = new IdempotencyGuard(store, { ttlMs: 60_000, waitMs: 100, leaseMs: 60_000 }, silent);
  const slow = guard.run('alice:k', 'hash', async () => {
    await sleep(400);
    return created;
  });
  await sleep(10);
  await assert.rejects(
    guard.run('alice:k', 'hash', async () => created),
    (error: { statusCode?: number; code?: string }) =>
      error.statusCode === 409 && error.code === 'request_in_progress',
  );
  await slow;
});

test('an abandoned in-progress key (lease passed) is taken over', async () => {
  const store = new MemoryIdempotencyStore();
  await store.begin({
    key: 'alice:k',
    requestHash: 'hash',
    owner: 'crashed-process',
    leaseUntil: new Date(Date.now() - 1),
    expiresAt: new Date(Date.now() + 60_000),
  });
  const guard = new IdempotencyGuard(store, { ttlMs: 60_000, waitMs: 1000, leaseMs: 60_000 }, silent);
  const result = await guard.run('alice:k', 'hash', async () => created);
  assert.deepEqual(result, { response: created, replayed: false });
  assert.equal(store.records.get('alice:k')?.state, 'completed');
});

test('expired keys are not replayed and are cleaned up', async () => {
  const store = new MemoryIdempotencyStore();
  const guard = new IdempotencyGuard(store, { ttlMs: 20, waitMs: 1000 }, silent);
  await guard.run('alice:k', 'hash', async () => created);
  await sleep(30);
  const again = await guard.run('alice:k', 'other-hash', async () => created);
  assert.equal(again.replayed, false);
  await sleep(30);
  assert.equal(await store.deleteExpired(new Date()), 1);
  assert.equal(store.records.size, 0);
});
