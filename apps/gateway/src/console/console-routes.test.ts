import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import type { FastifyInstance } from 'fastify';
import { PaymentServiceService } from '@oms/contracts';
import { ADMIN_TOKEN, buildTestApp, fakeBackends, fakeClient } from '../../test/test-support';
import type { ConsoleContext } from './console-context';
import { OrderBoard } from './order-board';
import { streamPasses } from './stream-pass';
import type { OrderJson } from '../schemas';

const WEBHOOK_SECRET = 'whsec_console_test';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

function consoleParts(overrides: Partial<ConsoleContext> = {}): ConsoleContext {
  return {
    board: new OrderBoard({ readOrder: async () => undefined }),
    passes: streamPasses(ADMIN_TOKEN, 60_000),
    services: async () => [],
    jaeger: { queryUrl: 'http://127.0.0.1:1', uiUrl: async () => null },
    development: true,
    webhookSecret: WEBHOOK_SECRET,
    bundleDir: undefined,
    ...overrides,
  };
}

/** Opens the event stream and resolves with its head and a reader of its next messages. */
function openStream(app: FastifyInstance, headers: Record<string, string>) {
  const { port } = app.server.address() as AddressInfo;
  return new Promise<{ response: IncomingMessage; next: () => Promise<{ event: string; data: unknown }> }>(
    (resolve, reject) => {
      const request = get({ host: '127.0.0.1', port, path: '/console/api/stream', headers }, (response) => {
        let buffer = '';
        const waiting: ((message: { event: string; data: unknown }) => void)[] = [];
        const messages: { event: string; data: unknown }[] = [];
        response.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!event || data === undefined) continue;
            const message = { event, data: JSON.parse(data) as unknown };
            const taker = waiting.shift();
            if (taker) taker(message);
            else messages.push(message);
          }
        });
        resolve({
          response,
          next: () =>
            new Promise((take) => {
              const queued = messages.shift();
              if (queued) take(queued);
              else waiting.push(take);
            }),
        });
      });
      request.on('error', reject);
    },
  );
}

describe('the console routes', () => {
  let app: FastifyInstance;
  let parts: ConsoleContext;
  let bundleDir: string;
  const webhooks: { rawBody: Buffer; signature: string }[] = [];

  before(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'console-bundle-'));
    mkdirSync(join(bundleDir, 'assets'));
    writeFileSync(join(bundleDir, 'index.html'), '<!doctype html><title>OMS console</title>');
    writeFileSync(join(bundleDir, 'assets', 'index-abc.js'), 'console.log(1)');
    parts = consoleParts({ bundleDir });
    const backends = fakeBackends({
      payment: fakeClient(PaymentServiceService, {
        handleStripeWebhook: async (request) => {
          webhooks.push(request);
          return { received: true };
        },
      }),
    });
    ({ app } = await buildTestApp({ console: parts, backends }));
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  test('every API route wants the admin token', async () => {
    for (const [method, url] of [
      ['POST', '/console/api/session'],
      ['GET', '/console/api/stock'],
      ['GET', '/console/api/services'],
      ['GET', '/console/api/traces?orderId=o1'],
      ['GET', '/console/api/orders/alice/o1'],
      ['POST', '/console/api/orders/alice/o1/pay'],
    ] as const) {
      const response = await app.inject({ method, url });
      assert.equal(response.statusCode, 401, `${method} ${url}`);
    }
    const stock = await app.inject({ method: 'GET', url: '/console/api/stock', headers: bearer });
    assert.equal(stock.statusCode, 200);
    assert.deepEqual(stock.json().items[0], {
      itemId: 'margherita',
      name: 'Margherita',
      available: 100,
      held: 0,
      committed: 0,
    });
  });

  test('the session sets a stream pass that only the stream path gets, and the stream admits it', async () => {
    const session = await app.inject({ method: 'POST', url: '/console/api/session', headers: bearer });
    assert.equal(session.statusCode, 200);
    assert.equal(session.json().development, true);
    const cookie = String(session.headers['set-cookie']);
    assert.match(
      cookie,
      /^oms_console_stream=\d+\.[\w-]+; Path=\/console\/api\/stream; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
    );

    for (const headers of [{}, { cookie: 'oms_console_stream=1.forged' }] as Record<string, string>[]) {
      const refused = await openStream(app, headers);
      assert.equal(refused.response.statusCode, 401);
      refused.response.destroy();
    }

    const stream = await openStream(app, { cookie: cookie.split(';')[0]! });
    assert.equal(stream.response.statusCode, 200);
    assert.match(String(stream.response.headers['content-type']), /^text\/event-stream/);
    assert.deepEqual(await stream.next(), { event: 'snapshot', data: { orders: [] } });
    const order = {
      id: 'o9',
      customerId: 'alice',
      status: 'paid',
      updatedAt: '2026-01-01T00:00:00Z',
    } as OrderJson;
    parts.board.note(order);
    assert.deepEqual(await stream.next(), { event: 'order', data: order });
    stream.response.destroy();
  });

  test('pay sends the payment service a webhook signed as Stripe signs it', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/console/api/orders/alice/o1/pay',
      headers: bearer,
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().event, 'checkout.session.completed');
    const [delivered] = webhooks;
    assert.ok(delivered);
    const event = new Stripe('sk_test_x').webhooks.constructEvent(
      delivered.rawBody,
      delivered.signature,
      WEBHOOK_SECRET,
    );
    assert.equal(event.type, 'checkout.session.completed');
    assert.deepEqual((event.data.object as { metadata: object }).metadata, {
      orderId: 'o1',
      customerId: 'alice',
    });
  });

  test('a cancel from the console is on the board at once (the order service publishes no event for it)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/console/api/orders/alice/o7/cancel',
      headers: bearer,
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'cancelled');
    assert.deepEqual(parts.board.snapshot().find((order) => order.id === 'o7')?.status, 'cancelled');
  });

  test('the page for every view, its hashed assets cached for good, and no API path served as a page', async () => {
    const root = await app.inject({ method: 'GET', url: '/console' });
    assert.deepEqual([root.statusCode, root.headers.location], [302, '/console/']);
    for (const url of ['/console/', '/console/orders/alice/o1', '/console/traces?orderId=o1']) {
      const page = await app.inject({ method: 'GET', url });
      assert.equal(page.statusCode, 200, url);
      assert.match(page.body, /OMS console/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    }
    const asset = await app.inject({ method: 'GET', url: '/console/assets/index-abc.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    assert.equal((await app.inject({ method: 'GET', url: '/console/api/nothing' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/console/assets/missing.js' })).statusCode, 404);
  });
});

test('in production the developer actions do not exist, and an unbuilt console says so', async () => {
  const { app } = await buildTestApp({ console: consoleParts({ development: false }) });
  try {
    const pay = await app.inject({
      method: 'POST',
      url: '/console/api/orders/alice/o1/pay',
      headers: bearer,
    });
    assert.equal(pay.statusCode, 404);
    const page = await app.inject({ method: 'GET', url: '/console/' });
    assert.equal(page.statusCode, 503);
    assert.match(page.json().error.message, /not built/);
    const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: object };
    assert.ok('/console/api/stream' in openapi.paths);
    assert.ok(!('/console/api/orders/{customerId}/{orderId}/pay' in openapi.paths));
  } finally {
    await app.close();
  }
});
