// A real grpc-js server and client on loopback: errors keep status, reason and details across
// the wire; unexpected errors leak nothing; the inbound deadline caps outgoing calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import pino from 'pino';
import { MenuServiceService } from '@oms/contracts';
import { createTargetPolicy } from '@oms/resilience';
import { createRpcClient, RpcError, unaryService, inboundDeadline, type RpcClient } from './index';

let server: Server;
let client: RpcClient<typeof MenuServiceService>;
let seenDeadline: Date | undefined;

before(async () => {
  server = new Server();
  server.addService(
    MenuServiceService,
    unaryService(
      MenuServiceService,
      {
        listItems: async () => {
          seenDeadline = inboundDeadline();
          return { items: [] };
        },
        getItem: async ({ id }) => {
          if (id === 'boom') throw new Error('secret internal detail');
          throw new RpcError(status.FAILED_PRECONDITION, 'out_of_stock', 'not enough', [
            { itemId: id, available: 0 },
          ]);
        },
        getItems: async () => ({ items: [], missingIds: [] }),
        upsertItem: async (item) => item,
      },
      pino({ level: 'silent' }),
    ),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  client = createRpcClient(MenuServiceService, {
    service: 'menu',
    target: `127.0.0.1:${port}`,
    policy: createTargetPolicy({
      retryAttempts: 0,
      breakerFailures: 100,
      breakerHalfOpenMs: 1000,
      bulkheadLimit: 8,
      bulkheadQueue: 8,
    }),
    defaultTimeoutMs: 1500,
    idempotent: ['listItems', 'getItem'],
  });
});

after(() => {
  client.close();
  server.forceShutdown();
});

test('a domain error keeps its status, reason and details across the wire', async () => {
  await assert.rejects(client.getItem({ id: 'pizza' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.reason, 'out_of_stock');
    assert.deepEqual(error.details, [{ itemId: 'pizza', available: 0 }]);
    return true;
  });
});

test('an unexpected error becomes a bare INTERNAL that leaks nothing', async () => {
  await assert.rejects(client.getItem({ id: 'boom' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, status.INTERNAL);
    assert.ok(!error.message.includes('secret'));
    return true;
  });
});

test('the server sees the deadline the client set', async () => {
  const before = Date.now();
  await client.listItems({}, { timeoutMs: 700 });
  assert.ok(seenDeadline, 'a deadline reached the handler');
  const budget = seenDeadline.getTime() - before;
  assert.ok(budget > 0 && budget <= 800, `budget ${budget} ms`);
});
