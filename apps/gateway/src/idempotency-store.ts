import type { Db } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError, VersionedCollection, type Versioned } from '@oms/persistence';

/** A response kept to be replayed for a repeated Idempotency-Key. */
export interface StoredResponse {
  statusCode: number;
  /** The exact JSON body that was sent. */
  body: string;
  headers: Record<string, string>;
}

export interface IdempotencyRecord {
  /** `${customerId}:${idempotencyKey}`: keys are scoped to the customer. */
  key: string;
  /** sha256 of the canonical request (after merging lines): a different body is a reuse. */
  requestHash: string;
  state: 'in_progress' | 'completed';
  /** The request working on it; only it may complete or release the record. */
  owner: string;
  /** An in-progress record whose lease passed belongs to a request that died: another may take over. */
  leaseUntil: Date;
  /** From then on the record no longer counts and the cleanup deletes it. */
  expiresAt: Date;
  response?: StoredResponse;
}

export type NewIdempotencyRecord = Pick<
  IdempotencyRecord,
  'key' | 'requestHash' | 'owner' | 'leaseUntil' | 'expiresAt'
>;

export type BeginResult = { started: true } | { started: false; existing: IdempotencyRecord };

/**
 * Where Idempotency-Keys live. Every operation is a single-document atomic write (the database
 * may be FerretDB v1: no transactions, no TTL indexes), with the unique `_id` settling races.
 */
export interface IdempotencyStore {
  /** Claims the key as `in_progress` for `owner`, or returns the live record that holds it. */
  begin(record: NewIdempotencyRecord): Promise<BeginResult>;
  /** The live (unexpired) record of a key. */
  get(key: string): Promise<IdempotencyRecord | undefined>;
  /** Moves an in-progress record from an owner that stopped renewing it to a new owner. */
  takeOver(key: string, previousOwner: string, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Stores the response of the owner's request: from now on the key replays it. */
  complete(key: string, owner: string, response: StoredResponse, expiresAt: Date): Promise<boolean>;
  /** Drops the owner's in-progress record (the request failed: the client may retry with the key). */
  release(key: string, owner: string): Promise<void>;
  /** Deletes expired records; returns how many. */
  deleteExpired(now: Date): Promise<number>;
}

interface IdempotencyDocument extends Versioned {
  _id: string;
  requestHash: string;
  state: 'in_progress' | 'completed';
  owner: string;
  leaseUntil: Date;
  expiresAt: Date;
  createdAt: Date;
  response?: StoredResponse;
}

const toRecord = (doc: IdempotencyDocument): IdempotencyRecord => ({
  key: doc._id,
  requestHash: doc.requestHash,
  state: doc.state,
  owner: doc.owner,
  leaseUntil: doc.leaseUntil,
  expiresAt: doc.expiresAt,
  ...(doc.response ? { response: doc.response } : {}),
});

export const IDEMPOTENCY_COLLECTION = 'idempotency_keys';

/** The gateway's MongoDB collection `idempotency_keys`. */
export class MongoIdempotencyStore implements IdempotencyStore {
  private constructor(private readonly keys: VersionedCollection<IdempotencyDocument>) {}

  static async open(db: Db): Promise<MongoIdempotencyStore> {
    const keys = db.collection<IdempotencyDocument>(IDEMPOTENCY_COLLECTION);
    // Not a TTL index (FerretDB v1 has none): it only makes the periodic cleanup cheap.
    await ensureIndexes(keys, [{ keys: { expiresAt: 1 }, options: { name: 'expiresAt' } }]);
    return new MongoIdempotencyStore(new VersionedCollection(keys));
  }

  async begin(record: NewIdempotencyRecord): Promise<BeginResult> {
    // Two attempts: an expired record in the way is deleted once, then the insert is retried.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.keys.insertOne({
          _id: record.key,
          requestHash: record.requestHash,
          state: 'in_progress',
          owner: record.owner,
          leaseUntil: record.leaseUntil,
          expiresAt: record.expiresAt,
          createdAt: new Date(),
        });
        return { started: true };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await this.keys.collection.findOne({ _id: record.key });
      if (!existing) {
        if (attempt < 2) continue; // released between our insert and our read
        throw new Error('idempotency record kept vanishing');
      }
      if (existing.expiresAt.getTime() > Date.now() || attempt >= 2)
        return { started: false, existing: toRecord(existing) };
      // Expired but not yet cleaned up: delete exactly that version, then claim the key.
      await this.keys.collection.deleteOne({ _id: record.key, v: existing.v });
    }
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.keys.collection.findOne({ _id: key });
    return doc && doc.expiresAt.getTime() > Date.now() ? toRecord(doc) : undefined;
  }

  async takeOver(key: string, previousOwner: string, owner: string, leaseUntil: Date): Promise<boolean> {
    const result = await this.keys.updateOne(
      { _id: key, state: 'in_progress', owner: previousOwner },
      { $set: { owner, leaseUntil } },
    );
    return result.modifiedCount === 1;
  }

  async complete(key: string, owner: string, response: StoredResponse, expiresAt: Date): Promise<boolean> {
    const result = await this.keys.updateOne(
      { _id: key, state: 'in_progress', owner },
      { $set: { state: 'completed', response, expiresAt } },
    );
    return result.modifiedCount === 1;
  }

  async release(key: string, owner: string): Promise<void> {
    await this.keys.collection.deleteOne({ _id: key, state: 'in_progress', owner });
  }

  async deleteExpired(now: Date): Promise<number> {
    return (await this.keys.collection.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
  }
}
