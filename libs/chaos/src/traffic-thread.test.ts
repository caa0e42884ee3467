import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrafficThread } from './traffic-thread';

/** Order ids are unique across the stand-ins, as they are across real gateways. */
let orders = 0;

/**
 * A stand-in for the gateway's public API: every create succeeds and every session is ready. It
 * honours Idempotency-Key unless told not to (a gateway with that bug).
 */
function fakeGateway(
  { honoursIdempotencyKeys } = { honoursIdempotencyKeys: true },
): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const byKey = new Map<string, string>();
  const server = createServer((request, response) => {
    requests++;
    const customerId = request.url?.split('/')[3] ?? 'c';
    const order = (id: string) => ({
      id,
      customerId,
      status: 'awaiting_payment',
      totalCents: 900,
      currency: 'usd',
    });
    request.resume();
    request.on('end', () => {
      const url = request.url ?? '';
      response.setHeader('content-type', 'application/json');
      if (request.method === 'POST' && /\/orders$/.test(url)) {
        const key = String(request.headers['idempotency-key']);
        const id = (honoursIdempotencyKeys && byKey.get(key)) || `ord_${++orders}`;
        byKey.set(key, id);
        response.statusCode = 201;
        return response.end(JSON.stringify(order(id)));
      }
      if (request.method === 'GET') return response.end(JSON.stringify(order(url.split('/').pop()!)));
      response.end('{}'); // cancels and webhooks
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests: () => requests,
        server,
      }),
    ),
  );
}

test(
  'the traffic thread starts flows, follows the current gateways, and hands back what it learned',
  { timeout: 60_000 },
  async () => {
    const first = await fakeGateway();
    const second = await fakeGateway();
    let gateways = [first.url];
    const traffic = new TrafficThread({
      seed: 1,
      ratePerSecond: 20,
      items: ['a', 'b'],
      gateways: () => gateways,
    });
    try {
      const priority = await traffic.started;
      assert.ok(typeof priority === 'number' || priority.startsWith('default'), String(priority));
      await new Promise((resolve) => setTimeout(resolve, 700));
      gateways = [second.url]; // the first "gateway" was killed and another came up
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const outcome = await traffic.stop();
      assert.ok(outcome.counts.attempted > 0);
      assert.equal(outcome.orders.size, outcome.counts.attempted, 'every create answered 201 is known');
      for (const order of outcome.orders.values()) {
        assert.match(order.id, /^ord_\d+$/);
        assert.ok(['pay', 'cancel', 'expire'].includes(order.fate));
        assert.equal(order.settled, 'accepted');
      }
      assert.ok(outcome.seconds.some((second) => second.created > 0));
      assert.ok(second.requests() > 0, 'the new gateway list reached the thread');
      assert.deepEqual(outcome.violations, []);
    } finally {
      first.server.close();
      second.server.close();
    }
  },
);

test(
  'a create replayed with its Idempotency-Key that makes a second order is reported',
  { timeout: 60_000 },
  async () => {
    const gateway = await fakeGateway({ honoursIdempotencyKeys: false });
    // A tenth of the creates is replayed: at 50 flows a second for 2 s, some surely are.
    const traffic = new TrafficThread({
      seed: 2,
      ratePerSecond: 50,
      items: ['a'],
      gateways: () => [gateway.url],
    });
    try {
      await traffic.started;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const outcome = await traffic.stop();
      assert.ok(outcome.counts.replays > 0);
      assert.equal(outcome.violations.length, outcome.counts.replays);
      assert.match(outcome.violations[0]!, /create replayed with key .* made a second order ord_\d+/);
    } finally {
      gateway.server.close();
    }
  },
);
