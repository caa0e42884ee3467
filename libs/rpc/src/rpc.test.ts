// A real grpc-js server and client on loopback: errors keep status, reason and details across
// the wire; unexpected errors leak nothing; the inbound deadline caps outgoing calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type Server } from '@grpc/grpc-js';
import pino from 'pino';
import { MenuServiceService } from '@oms/contracts';
import { refused } from '@oms/domain';
import { createTargetPolicy } from '@oms/resilience';
import { RpcError, unaryService, inboundDeadline, type RpcClient } from './index';
import { menuClient, serveMenu } from './loopback.test-support';

/** Stands for what the service's classifier (the database is away) recognises. */
class DatabaseAway extends Error {}

let server: Server;
let port: number;
let client: RpcClient<typeof MenuServiceService>;
let seenDeadline: Date | undefined;

before(async () => {
  ({ server, port } = await serveMenu(
    unaryService(
      MenuServiceService,
      {
        listItems: async () => {
          seenDeadline = inboundDeadline();
          return { items: [] };
        },
        getItem: async ({ id }) => {
          if (id === 'boom') throw new Error('secret internal detail');
          if (id === 'db-away') throw new DatabaseAway('connect ECONNREFUSED 127.0.0.1:27017');
          if (id === 'gone') throw refused('item_withdrawn', `item ${id} is off the menu`, [{ itemId: id }]);
          throw new RpcError(status.FAILED_PRECONDITION, 'out_of_stock', 'not enough', [
            { itemId: id, available: 0 },
          ]);
        },
        getItems: async () => ({ items: [], missingIds: [] }),
        upsertItem: async (item) => item,
      },
      pino({ level: 'silent' }),
      { unavailableWhen: (error) => error instanceof DatabaseAway },
    ),
  ));
  client = menuClient(port, ['listItems', 'getItem']);
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

test('a domain refusal crosses the wire as its status, with its reason and details', async () => {
  await assert.rejects(client.getItem({ id: 'gone' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.reason, 'item_withdrawn');
    assert.deepEqual(error.details, [{ itemId: 'gone' }]);
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

test('an error that means a dependency is away becomes UNAVAILABLE with a retry-after, leaking nothing', async () => {
  await assert.rejects(client.getItem({ id: 'db-away' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, status.UNAVAILABLE);
    assert.equal(error.reason, 'dependency_unavailable');
    assert.equal(error.retryAfterSeconds, 1);
    assert.ok(!error.message.includes('ECONNREFUSED'));
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

test('a call beyond the admission limit is refused at once with overloaded, never retried, and leaves the breaker closed', async () => {
  let handled = 0;
  const refused: string[] = [];
  const { server: refusing, port } = await serveMenu(
    unaryService(
      MenuServiceService,
      {
        listItems: async () => {
          handled += 1;
          return { items: [] };
        },
        getItem: async () => {
          throw new Error('not used');
        },
        getItems: async () => ({ items: [], missingIds: [] }),
        upsertItem: async (item) => item,
      },
      pino({ level: 'silent' }),
      { admission: () => ({ tryAcquire: () => undefined }), onRefused: (method) => refused.push(method) },
    ),
  );
  const policy = createTargetPolicy({
    retryAttempts: 3,
    breakerFailures: 1,
    breakerHalfOpenMs: 60_000,
    bulkheadLimit: 8,
    bulkheadQueue: 8,
  });
  const caller = menuClient(port, ['listItems'], policy);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(caller.listItems({}), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, status.UNAVAILABLE);
        assert.equal(error.reason, 'overloaded');
        assert.equal(error.retryAfterSeconds, 1);
        return true;
      });
    }
    assert.equal(handled, 0);
    assert.deepEqual(refused, ['listItems', 'listItems'], 'each call was sent once: no retry');
    assert.equal(policy.breakerState(), 'closed', 'our own overload is not a dependency failure');
  } finally {
    caller.close();
    refusing.forceShutdown();
  }
});
