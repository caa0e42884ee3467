import type { CreateIndexesOptions, Db, Document, IndexSpecification } from 'mongodb';
import { VersionedCollection, type Versioned } from '@oms/persistence';
import type { OutboxFields, OutboxHandOff, RelayOutbox } from './outbox';

/** One index of a store's collection: its keys, and options such as `unique`. */
export interface IndexDefinition {
  keys: IndexSpecification;
  options?: CreateIndexesOptions;
}

/** A store's collection as `openOutboxCollection` opens it. */
export interface OutboxCollection<TSchema extends Document & Versioned & OutboxFields> {
  documents: VersionedCollection<TSchema>;
  outbox: OutboxHandOff;
}

/**
 * The collection of a store whose writes stage events: its indexes made, its versioned writes, and
 * the relay that publishes what those writes stage (the service context's `messaging.relayOutbox`).
 */
export async function openOutboxCollection<TSchema extends Document & Versioned & OutboxFields>(
  db: Db,
  name: string,
  relayOutbox: RelayOutbox<TSchema>,
  indexes: readonly IndexDefinition[],
): Promise<OutboxCollection<TSchema>> {
  const collection = db.collection<TSchema>(name);
  // One index per call: FerretDB v1 drops the connection on a repeated multi-index createIndexes.
  for (const { keys, options } of indexes) await collection.createIndex(keys, options);
  return { documents: new VersionedCollection(collection), outbox: relayOutbox(collection) };
}

/**
 * A store over one outbox collection. A subclass's `open` makes it with the collection
 * `openCollection` opened (the indexes are the subclass's), and the subclass hands what a write
 * staged to `outbox`, so that it is published at once.
 */
export abstract class OutboxStore<TSchema extends Document & Versioned & OutboxFields> {
  protected static readonly openCollection = openOutboxCollection;

  protected readonly documents: VersionedCollection<TSchema>;
  protected readonly outbox: OutboxHandOff;

  protected constructor({ documents, outbox }: OutboxCollection<TSchema>) {
    this.documents = documents;
    this.outbox = outbox;
  }
}
