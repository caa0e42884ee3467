import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import { ensureStack, stackAddresses } from './stack';

/**
 * A database of the test's own (`<prefix>_<random>`) on the local stack's MongoDB-wire server,
 * dropped with its client closed when the test ends.
 */
export async function openTestDatabase(t: TestContext, prefix: string): Promise<Db> {
  await ensureStack({ only: ['mongo'] });
  const { MONGO_URL } = await stackAddresses();
  // FerretDB v1 has no retryable writes; a server that is away fails the test in 5 s, not 30.
  const client = new MongoClient(MONGO_URL!, { serverSelectionTimeoutMS: 5000, retryWrites: false });
  await client.connect();
  const db = client.db(`${prefix}_${randomBytes(5).toString('hex')}`);
  t.after(async () => {
    await db.dropDatabase();
    await client.close();
  });
  return db;
}
