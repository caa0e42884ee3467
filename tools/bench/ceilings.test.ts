// The libraries-only get-order ceiling does get-order's work: it reads the stored order through its
// own gRPC hop and answers it as JSON, against the real MongoDB-wire server of the local stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { stackAddresses } from '@oms/testing';
import { startCeiling, type Ceiling } from './ceilings';

test('the get-order ceiling answers a stored order over its gRPC hop, and another customer gets a 404', async (t) => {
  const mongoUrl = (await stackAddresses()).MONGO_URL!;
  const database = `bench_ceiling_test_${randomBytes(4).toString('hex')}`;
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  const started: Ceiling[] = [];
  t.after(async () => {
    for (const ceiling of started) ceiling.stop();
    await client.db(database).dropDatabase();
    await client.close();
  });
  const at = new Date('2026-12-02T10:00:00.000Z');
  const later = new Date('2026-12-02T10:00:01.500Z');
  // What the order service stores and the gateway answers alike.
  const same = {
    customerId: 'alice',
    status: 'awaiting_payment',
    items: [
      { itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 },
    ],
    totalCents: 2500,
    currency: 'usd',
    paymentUrl: 'https://checkout.example/pay',
  };
  await client
    .db(database)
    .collection<{ _id: string } & Record<string, unknown>>('orders')
    .insertOne({
      _id: 'ord_ceiling',
      ...same,
      history: [
        { status: 'pending', at },
        { status: 'awaiting_payment', at: later },
      ],
      createdAt: at,
      updatedAt: later,
      outbox: [{ type: 'order.created' }],
      v: 1,
    });

  const server = await startCeiling('ceiling-get-order.ts', ['server', mongoUrl, database]);
  started.push(server);
  const gateway = await startCeiling('ceiling-get-order.ts', ['gateway', server.info.target!]);
  started.push(gateway);

  const answer = await fetch(`${gateway.info.url}/v1/customers/alice/orders/ord_ceiling`);
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), {
    id: 'ord_ceiling',
    ...same,
    history: [
      { status: 'pending', at: at.toISOString() },
      { status: 'awaiting_payment', at: later.toISOString() },
    ],
    createdAt: at.toISOString(),
    updatedAt: later.toISOString(),
  });
  assert.equal((await fetch(`${gateway.info.url}/v1/customers/bob/orders/ord_ceiling`)).status, 404);
  assert.equal((await fetch(`${gateway.info.url}/v1/customers/alice/orders/ord_missing`)).status, 404);
});
