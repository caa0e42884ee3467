import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { connectDatabase } from './index';
import { DocumentLocks } from './document-locks';

test('read-modify-writes under the lock never lose an update, even across clients', async () => {
  await ensureStack();
  const url = (await stackAddresses()).MONGO_URL!;
  const deployment = uniqueDeployment('lock');
  const [a, b] = await Promise.all([
    connectDatabase({ url, service: 'locktest', deployment }),
    connectDatabase({ url, service: 'locktest', deployment }),
  ]);
  try {
    const counters = a.db.collection<{ _id: string; n: number }>('counters');
    await counters.insertOne({ _id: 'c', n: 0 });
    const increment = async (db: typeof a.db) => {
      const locks = DocumentLocks.open(db);
      await locks.withLock(
        'c',
        async () => {
          const doc = await db.collection<{ _id: string; n: number }>('counters').findOne({ _id: 'c' });
          await db
            .collection<{ _id: string; n: number }>('counters')
            .replaceOne({ _id: 'c' }, { n: doc!.n + 1 });
        },
        { timeoutMs: 30_000 },
      );
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 === 0 ? a.db : b.db)));
    assert.equal((await counters.findOne({ _id: 'c' }))!.n, 40);
  } finally {
    await a.db.dropDatabase();
    await Promise.all([a.close(), b.close()]);
  }
});

test('a lock whose holder crashed is taken over after its lease', async () => {
  await ensureStack();
  const database = await connectDatabase({
    url: (await stackAddresses()).MONGO_URL!,
    service: 'locktest',
    deployment: uniqueDeployment('lock'),
  });
  try {
    await database.db.collection<{ _id: string; owner: string; expiresAt: Date }>('locks').insertOne({
      _id: 'k',
      owner: 'crashed',
      expiresAt: new Date(Date.now() - 1),
    });
    assert.equal(
      await DocumentLocks.open(database.db).withLock('k', async () => 'ran', { timeoutMs: 2000 }),
      'ran',
    );
  } finally {
    await database.db.dropDatabase();
    await database.close();
  }
});
