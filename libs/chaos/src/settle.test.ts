// settle() against the local stack's MongoDB-wire server: what counts as work still under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { deploymentDatabase, ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { settle } from './invariants';

test('a reservation decided but not finished (committing, releasing) is work under way', async () => {
  await ensureStack();
  const mongoUrl = (await stackAddresses()).MONGO_URL!;
  const deployment = uniqueDeployment('settle');
  const client = await MongoClient.connect(mongoUrl, { retryWrites: false });
  const stock = client.db(deploymentDatabase('stock', deployment));
  const reservations = stock.collection<{ _id: string; status: string }>('reservations');
  const quickly = { timeoutMs: 5_000, stallMs: 1_500 };
  try {
    // as a stock process leaves them when it stops between deciding and stepping on the items
    await reservations.insertMany([
      { _id: 'ord_a', status: 'committing' },
      { _id: 'ord_b', status: 'releasing' },
    ]);
    const busy = await settle(mongoUrl, deployment, quickly);
    assert.deepEqual({ settled: busy.settled, left: busy.left }, { settled: false, left: 2 });

    // what the sweeper makes of them
    await reservations.updateOne({ _id: 'ord_a' }, { $set: { status: 'committed' } });
    await reservations.updateOne({ _id: 'ord_b' }, { $set: { status: 'released' } });
    const quiet = await settle(mongoUrl, deployment, quickly);
    assert.deepEqual({ settled: quiet.settled, left: quiet.left }, { settled: true, left: 0 });
  } finally {
    await stock.dropDatabase();
    await client.close();
  }
});
