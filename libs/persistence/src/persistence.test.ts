import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { connectDatabase, databaseName, isDuplicateKeyError } from './index';

test('each service gets its own database per deployment', () => {
  assert.equal(databaseName('order', 'local'), 'order_local');
  assert.equal(databaseName('stock', 't-1a2b'), 'stock_t_1a2b');
});

test('a duplicate _id on the real server is recognised as a duplicate key', async () => {
  await ensureStack({ only: ['mongo'] });
  const database = await connectDatabase({
    url: (await stackAddresses()).MONGO_URL!,
    service: 'persistence',
    deployment: uniqueDeployment('db'),
  });
  try {
    const collection = database.db.collection<{ _id: string }>('things');
    await collection.insertOne({ _id: 'a' });
    const error = await collection.insertOne({ _id: 'a' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isDuplicateKeyError(error), String(error));
    assert.equal(isDuplicateKeyError(new Error('other')), false);
  } finally {
    await database.db.dropDatabase();
    await database.close();
  }
});
