import { randomUUID } from 'node:crypto';
import type { Collection, Db, Document, Filter, UpdateFilter, WithId } from 'mongodb';
import { isDuplicateKeyError } from './errors';

interface LockDocument {
  _id: string;
  owner: string;
  expiresAt: Date;
}

export class LockContentionError extends Error {
  constructor(key: string) {
    super(`could not lock ${key} in time`);
    this.name = 'LockContentionError';
  }
}

/**
 * Per-document mutual exclusion built on the one write FerretDB v1 makes atomic: an insert against
 * a unique _id. FerretDB evaluates an update's filter and then overwrites the whole document, so
 * two "compare-and-set" updates can both win and one silently erases the other. Every
 * read-modify-write of a shared document (an order's status, its outbox) runs under this lock.
 * A holder that crashed is replaced once its lease lapses.
 */
export class DocumentLocks {
  private constructor(private readonly locks: Collection<LockDocument>) {}

  static open(db: Db, collection = 'locks'): DocumentLocks {
    return new DocumentLocks(db.collection<LockDocument>(collection));
  }

  async withLock<T>(
    key: string,
    work: () => Promise<T>,
    options: { leaseMs?: number; timeoutMs?: number } = {},
  ): Promise<T> {
    const owner = randomUUID();
    const leaseMs = options.leaseMs ?? 10_000;
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    let backoffMs = 2;
    for (;;) {
      try {
        await this.locks.insertOne({ _id: key, owner, expiresAt: new Date(Date.now() + leaseMs) });
        break;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const held = await this.locks.findOne({ _id: key });
      if (held && held.expiresAt.getTime() < Date.now()) {
        await this.locks.deleteOne({ _id: key, owner: held.owner });
        continue;
      }
      if (Date.now() > deadline) throw new LockContentionError(key);
      await new Promise((resolve) => setTimeout(resolve, backoffMs * (0.5 + Math.random())));
      backoffMs = Math.min(backoffMs * 2, 50);
    }
    try {
      return await work();
    } finally {
      await this.locks.deleteOne({ _id: key, owner });
    }
  }

  /**
   * The compare-and-set every store needs, under the document's lock: reads the document, asks
   * `decide` for an update (undefined: leave it), applies it, and returns the document after it
   * (null when missing or left as it was).
   */
  async updateIf<T extends Document & { _id: string }>(
    collection: Collection<T>,
    id: string,
    decide: (current: WithId<T>) => UpdateFilter<T> | undefined,
  ): Promise<WithId<T> | null> {
    return this.withLock(id, async () => {
      const byId = { _id: id } as Filter<T>;
      const current = await collection.findOne(byId);
      const update = current ? decide(current) : undefined;
      if (!update) return null;
      return collection.findOneAndUpdate(byId, update, { returnDocument: 'after' });
    });
  }
}
