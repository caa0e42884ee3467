import DataLoader from 'dataloader';
import type { Collection, Document, Filter, WithId } from 'mongodb';

export interface ReadsByIdOptions {
  /** The fields every read leaves out or keeps (one projection per reader). */
  projection?: Document;
  /** The most ids one `find` asks for; more go in further finds. */
  maxBatch?: number;
}

/** Ids per `find`: a bound on one command's size and on one reply's documents. */
const DEFAULT_MAX_BATCH = 100;

/**
 * Reads of single documents by _id. Those that arrive together (in one turn of the event loop:
 * under load, the many calls a socket read delivers at once) go to the database as one
 * `find({ _id: { $in: ids } })`; a read alone is the usual `findOne({ _id })`. Measured under 64
 * connections of get-order (bench throughput), each find served several reads, and each read
 * so cost the process, the database server and the pool a fraction of a command. A read waits
 * no longer than the end of the event loop's turn it was made in.
 *
 * A failed find fails every read it served. The find runs in the trace context of the first read
 * it serves, so the other reads' traces show no database span of their own.
 */
export class ReadsById<T extends { _id: string }> {
  private readonly loader: DataLoader<string, WithId<T> | null>;

  constructor(
    private readonly collection: Collection<T>,
    private readonly options: ReadsByIdOptions = {},
  ) {
    this.loader = new DataLoader((ids) => this.readMany(ids), {
      // Every read goes to the database: a cache would answer a later read with an older document.
      cache: false,
      maxBatchSize: options.maxBatch ?? DEFAULT_MAX_BATCH,
      // After the I/O callbacks of this turn, not only this tick's: calls that arrive in one read
      // of a socket are delivered through separate callbacks.
      batchScheduleFn: (run) => setImmediate(run),
    });
  }

  /** The document with this _id, or null. */
  get(id: string): Promise<WithId<T> | null> {
    return this.loader.load(id);
  }

  private async readMany(ids: readonly string[]): Promise<(WithId<T> | null)[]> {
    const { projection } = this.options;
    if (ids.length === 1)
      return [await this.collection.findOne({ _id: ids[0] } as Filter<T>, { projection })];
    const unique = [...new Set(ids)];
    const docs = await this.collection
      .find({ _id: { $in: unique } } as Filter<T>, { projection, batchSize: unique.length })
      .toArray();
    const byId = new Map<unknown, WithId<T>>(docs.map((doc) => [doc._id, doc]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
