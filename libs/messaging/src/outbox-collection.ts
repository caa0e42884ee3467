import type { CreateIndexesOptions, Db, Document, IndexSpecification } from 'mongodb';
import { VersionedCollection, type Versioned } from '@oms/persistence';
import type { OutboxFields, OutboxHandOff, RelayOutbox } from './outbox';

/** One index of a store's collection: its keys, and options such as `unique`. */
export interface IndexDefinition {
  keys: IndexSpecification;
  options?: CreateIndexesOptions;
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
): Promise<{ documents: VersionedCollection<TSchema>; outbox: OutboxHandOff }> {
  const collection = db.collection<TSchema>(name);
  // One index per call: FerretDB v1 drops the connection on a repeated multi-index createIndexes.
  for (const { keys, options } of indexes) await collection.createIndex(keys, options);
  return { documents: new VersionedCollection(collection), outbox: relayOutbox(collection) };
}
