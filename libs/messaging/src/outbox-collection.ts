import type {
  Collection,
  Db,
  Document,
  Filter,
  FindOneAndUpdateOptions,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
} from 'mongodb';
import { ensureIndexes, VersionedCollection, type IndexDefinition, type Versioned } from '@oms/persistence';
import { ObjectId } from 'mongodb';
import { type OutboxFields, type OutboxHandOff, type PublishedEvents, type RelayOutbox } from './outbox';

/** A write of one document, with the removal of its published events added (see OutboxDocuments). */
interface CarryingWrite<T> {
  filter: Filter<T>;
  update: UpdateFilter<T>;
}

/**
 * Adds the removal of published events to a write of their document. The events' fields can go
 * with any write. The `outboxPending` flag can go only if nothing was staged since the events were
 * read, so the write then also requires that version, unless it stages events itself (the flag
 * stays set), or its filter names another version.
 */
function carryRemoval<T>(
  filter: Filter<T>,
  update: UpdateFilter<T>,
  { eventIds, v }: PublishedEvents,
): CarryingWrite<T> | undefined {
  const events = Object.fromEntries(eventIds.map((id) => [`outbox.${id}`, '']));
  const own = update as Record<string, Record<string, unknown> | undefined>;
  const stages = own.$set?.outboxPending === true;
  const ownVersion = (filter as { v?: unknown }).v;
  if (Object.keys(own).some((operator) => !operator.startsWith('$'))) return undefined;
  const clearsFlag = !stages && (ownVersion === undefined || ownVersion === v);
  return {
    filter: clearsFlag ? ({ ...filter, v } as Filter<T>) : filter,
    update: {
      ...update,
      $unset: { ...own.$unset, ...events, ...(clearsFlag ? { outboxPending: '' } : {}) },
    } as UpdateFilter<T>,
  };
}

/**
 * The versioned writes of an outbox collection. A write of a document whose published events the
 * relay has not removed yet carries their removal, which spares the relay a write of its own. If
 * the write with the removal matches nothing (its own filter did not hold, or the version moved),
 * the write runs as asked and the relay writes the removal.
 */
export class OutboxDocuments<T extends Document & Versioned & OutboxFields> extends VersionedCollection<T> {
  constructor(
    collection: Collection<T>,
    private readonly outbox: OutboxHandOff,
  ) {
    super(collection);
  }

  override findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: Omit<FindOneAndUpdateOptions, 'includeResultMetadata'> = {},
  ): Promise<WithId<T> | null> {
    return this.carrying(
      filter,
      update,
      options,
      (f, u) => super.findOneAndUpdate(f, u, options),
      (written) => written !== null,
    );
  }

  override updateOne(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: UpdateOptions = {},
  ): Promise<UpdateResult<T>> {
    return this.carrying(
      filter,
      update,
      options,
      (f, u) => super.updateOne(f, u, options),
      (written) => written.matchedCount === 1,
    );
  }

  /** Runs `write` with the document's waiting removal added; as asked if there is none or it misses. */
  private async carrying<R>(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    { upsert }: { upsert?: boolean },
    write: (filter: Filter<T>, update: UpdateFilter<T>) => Promise<R>,
    matched: (result: R) => boolean,
  ): Promise<R> {
    // An upsert carries nothing: with the version in its filter, a miss would insert a copy.
    const id = (filter as { _id?: unknown })._id;
    const addressed = typeof id === 'string' || id instanceof ObjectId;
    const removal = addressed && !upsert ? this.outbox.takeRemoval(String(id)) : undefined;
    if (!removal) return write(filter, update);
    const carried = carryRemoval(filter, update, removal);
    if (carried) {
      const written = await write(carried.filter, carried.update);
      if (matched(written)) return written;
    }
    this.outbox.giveBackRemoval(removal);
    return write(filter, update);
  }
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
  await ensureIndexes(collection, indexes);
  const outbox = relayOutbox(collection);
  return { documents: new OutboxDocuments(collection, outbox), outbox };
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
