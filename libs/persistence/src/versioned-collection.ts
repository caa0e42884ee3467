import type {
  Collection,
  Document,
  Filter,
  FindOneAndUpdateOptions,
  OptionalUnlessRequiredId,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
} from 'mongodb';
import { DocumentTurns, documentKeyOf, serverNeedsTurns } from './document-turns';
import { retryOnConflict, type ConflictRetryOptions } from './write-conflicts';

/** A document changed under optimistic concurrency: every write of it adds one to `v`. */
export interface Versioned {
  v: number;
}

/** Adds the version bump to an update; the caller's own `$inc`s are kept. */
export function withVersionBump<T extends Document>(update: UpdateFilter<T>): UpdateFilter<T> {
  return { ...update, $inc: { ...(update.$inc ?? {}), v: 1 } } as unknown as UpdateFilter<T>;
}

/**
 * The writes of a collection of shared documents, each one a single-document operation whose
 * filter carries its precondition. Every update bumps `v`, so a write that raced another one is
 * detected (by MongoDB itself, or by the local stack's version check) and run again on the new
 * state by `retryOnConflict`. Reads go straight to `collection`.
 */
export class VersionedCollection<T extends Document & Versioned> {
  /** On FerretDB, writers of one document in this process take turns (see DocumentTurns for why). */
  private readonly turns = new DocumentTurns();

  /** `conflictRetry` tunes how long a write keeps retrying a hot document (see retryOnConflict). */
  constructor(
    readonly collection: Collection<T>,
    private readonly conflictRetry: Omit<ConflictRetryOptions, 'retryDuplicateKey'> = {},
  ) {}

  get collectionName(): string {
    return this.collection.collectionName;
  }

  /** Inserts at version 0. Duplicate keys are the caller's business (they are idempotency). */
  async insertOne(doc: OptionalUnlessRequiredId<Omit<T, 'v'>>): Promise<void> {
    await this.collection.insertOne({ ...doc, v: 0 } as unknown as OptionalUnlessRequiredId<T>);
  }

  /** The document after the update, or null when the filter matched nothing. */
  findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: Omit<FindOneAndUpdateOptions, 'includeResultMetadata'> = {},
  ): Promise<WithId<T> | null> {
    return this.inTurn(filter, () =>
      retryOnConflict(
        () =>
          this.collection.findOneAndUpdate(filter, withVersionBump(update), {
            returnDocument: 'after',
            ...options,
          }),
        { ...this.conflictRetry, retryDuplicateKey: options.upsert === true },
      ),
    );
  }

  updateOne(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: UpdateOptions = {},
  ): Promise<UpdateResult<T>> {
    return this.inTurn(filter, () =>
      retryOnConflict(() => this.collection.updateOne(filter, withVersionBump(update), options), {
        ...this.conflictRetry,
        retryDuplicateKey: options.upsert === true,
      }),
    );
  }

  private async inTurn<R>(filter: Filter<T>, write: () => Promise<R>): Promise<R> {
    if (!(await serverNeedsTurns(this.collection.db.client))) return write();
    return this.turns.run(documentKeyOf(filter), write);
  }
}
