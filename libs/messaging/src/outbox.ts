import type { Collection, Document } from 'mongodb';
import type { Registry } from 'prom-client';
import type { Logger } from '@oms/logging';
import type { DomainEvent } from './event';
import { registerOutboxBacklogGauge } from './metrics';
import { captureTraceContext, withCapturedTraceContext } from './tracing';

/**
 * The transactional outbox without transactions (FerretDB has none): the document whose state
 * changes carries the events that change causes, written by the same single-document update.
 *
 *   await orders.updateOne(
 *     { _id: id, status: 'pending' },
 *     { $set: { status: 'paid', ...stageEvents([newEvent('order.paid', { orderId: id })]).$set } },
 *   );
 *
 * A relay publishes staged events with confirms and then removes them. A crash before the publish
 * loses nothing (the relay finds them later); a crash between publish and removal publishes twice,
 * which consumers absorb through their Inbox.
 *
 * FerretDB v1 applies an update by rewriting the whole document, so two concurrent updates of one
 * document can lose one of them — even `$set`s of different paths. Every writer of a document with
 * an outbox therefore holds that document's lock (DocumentLocks), the relay included (`locks`).
 */

/** An event waiting in a document, with the trace context of the request that staged it. */
interface StagedEvent extends DomainEvent {
  traceContext?: Record<string, string>;
}

/** The fields stageEvents() adds to a document. Services should leave them out of their API responses. */
export interface OutboxFields {
  /**
   * Staged events keyed by event id, so a staging never replaces another's events. (On FerretDB v1
   * concurrent updates of one document still lose each other: writers serialize with DocumentLocks.)
   */
  outbox?: Record<string, StagedEvent>;
  /** Set with every staging; cleared by the relay only while the map is empty. Indexed: the relay's query. */
  outboxPending?: boolean;
}

/** Ids become field names (`outbox.<id>`): a '.' or '$' would turn into a path or an operator. */
const SAFE_EVENT_ID = /^[A-Za-z0-9-]+$/;

/** Update fragment to add to any single-document write: stages `events` atomically with the state change. */
export function stageEvents(events: DomainEvent[]): { $set: Record<string, unknown> } {
  if (events.length === 0) return { $set: {} };
  // The relay publishes later, outside this request; keeping its trace context keeps one trace.
  const traceContext = captureTraceContext();
  const $set: Record<string, unknown> = { outboxPending: true };
  for (const event of events) {
    if (!SAFE_EVENT_ID.test(event.id))
      throw new Error(`event id ${JSON.stringify(event.id)} cannot be staged: use [A-Za-z0-9-] (uuid)`);
    const staged: StagedEvent = Object.keys(traceContext).length > 0 ? { ...event, traceContext } : event;
    $set[`outbox.${event.id}`] = staged;
  }
  return { $set };
}

/** The same for an insert (a new document and its first events): `insertOne({ ...order, ...stageEventsForInsert(events) })`. */
export function stageEventsForInsert(events: DomainEvent[]): OutboxFields {
  if (events.length === 0) return {};
  const outbox: Record<string, StagedEvent> = {};
  for (const [path, staged] of Object.entries(stageEvents(events).$set)) {
    if (path.startsWith('outbox.')) outbox[path.slice('outbox.'.length)] = staged as StagedEvent;
  }
  return { outbox, outboxPending: true };
}

/** The relay finds pending documents through this index. (No partial index: FerretDB v1 has none.) */
export async function ensureOutboxIndex<TSchema extends Document>(
  collection: Collection<TSchema>,
): Promise<void> {
  await collection.createIndex({ outboxPending: 1 }, { name: 'outboxPending_1' });
}

/** What the relay needs of the bus (a MessageBus is one). */
export interface EventPublisher {
  publish(event: DomainEvent): Promise<void>;
}

export interface OutboxRelayOptions<TSchema extends Document> {
  collection: Collection<TSchema>;
  bus: EventPublisher;
  logger: Logger;
  /** Pause between passes when there was nothing more to do. Default 200 ms; notify() cuts it short. */
  intervalMs?: number;
  /** Documents per pass. Default 100. */
  batch?: number;
  /** When given, `oms_outbox_backlog{collection}` is reported here. */
  metrics?: Registry;
  /**
   * The lock the service takes around its own writes to these documents, keyed by `String(_id)`
   * (@oms/persistence's DocumentLocks). Needed on FerretDB v1, which applies an update by
   * overwriting the whole document: without it, the relay's removal of published events can erase
   * a state change (and its newly staged events) written at the same moment.
   */
  locks?: DocumentLocking;
}

/** Serializes writes to one document; `DocumentLocks` from @oms/persistence is one. */
export interface DocumentLocking {
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
}

type OutboxDocument = Document & OutboxFields;

export class OutboxRelay<TSchema extends Document = Document> {
  private readonly collection: Collection<OutboxDocument>;
  private readonly intervalMs: number;
  private readonly batch: number;
  private indexEnsured?: Promise<void>;
  /** Passes never overlap, even when tests call relayOnce() next to a running loop. */
  private passes: Promise<unknown> = Promise.resolve();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private wokenDuringPass = false;
  private stopReportingBacklog?: () => void;

  constructor(private readonly options: OutboxRelayOptions<TSchema>) {
    this.collection = options.collection as unknown as Collection<OutboxDocument>;
    this.intervalMs = options.intervalMs ?? 200;
    this.batch = options.batch ?? 100;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.options.metrics) {
      this.stopReportingBacklog = registerOutboxBacklogGauge(
        this.options.metrics,
        this.collection.collectionName,
        () => this.backlog(),
      );
    }
    this.loop = this.runLoop();
  }

  /** Asks for a pass now rather than at the next interval: call it after a write that staged events. */
  notify(): void {
    this.wokenDuringPass = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopReportingBacklog?.();
    this.wake?.();
    await this.loop;
  }

  /**
   * One pass: for each document with pending events, publishes them oldest first (by occurredAt)
   * with confirms, removes the published ones, and clears `outboxPending` only if the map is then
   * empty — so an event staged meanwhile is never stranded. Returns how many it published.
   */
  async relayOnce(): Promise<number> {
    return (await this.queuePass()).published;
  }

  /** Staged, unpublished events (the backlog gauge). */
  async backlog(): Promise<number> {
    // FerretDB v1 lacks $objectToArray/$size, so the map sizes are summed here.
    const pending = await this.collection
      .find({ outboxPending: true }, { projection: { outbox: 1 } })
      .toArray();
    return pending.reduce((total, document) => total + Object.keys(document.outbox ?? {}).length, 0);
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      this.wokenDuringPass = false;
      let documents = 0;
      try {
        ({ documents } = await this.queuePass());
      } catch (error) {
        this.options.logger.warn(
          { err: error, collection: this.collection.collectionName },
          'outbox pass failed; will retry',
        );
      }
      // A full batch means more may be waiting: go on at once.
      if (this.running && documents < this.batch && !this.wokenDuringPass) await this.pause();
    }
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.intervalMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private queuePass(): Promise<{ published: number; documents: number }> {
    const pass = this.passes.then(() => this.relayPass());
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async relayPass(): Promise<{ published: number; documents: number }> {
    this.indexEnsured ??= ensureOutboxIndex(this.collection).catch((error: unknown) => {
      this.indexEnsured = undefined;
      throw error;
    });
    await this.indexEnsured;
    const documents = await this.collection
      .find({ outboxPending: true }, { projection: { outbox: 1 }, limit: this.batch })
      .toArray();
    let published = 0;
    const failures: { documentId: unknown; error: unknown }[] = [];
    for (const document of documents) {
      try {
        published += await this.relayDocument(document);
      } catch (error) {
        // Other documents still go out; this one is tried again next pass.
        failures.push({ documentId: document._id, error });
      }
    }
    if (failures.length > 0) {
      const [first] = failures;
      this.options.logger.warn(
        {
          err: first?.error,
          documentId: first?.documentId,
          failedDocuments: failures.length,
          collection: this.collection.collectionName,
        },
        'could not publish staged events; will retry',
      );
    }
    return { published, documents: documents.length };
  }

  private async relayDocument(document: OutboxDocument): Promise<number> {
    // Array.sort is stable: events staged in the same millisecond keep their staging order.
    const staged = Object.values(document.outbox ?? {}).sort((a, b) =>
      a.occurredAt.localeCompare(b.occurredAt),
    );
    const publishedIds: string[] = [];
    let publishFailure: unknown;
    for (const { traceContext, ...event } of staged) {
      try {
        await withCapturedTraceContext(traceContext, () => this.options.bus.publish(event));
      } catch (error) {
        publishFailure = error;
        break; // later events of this document wait, to keep their order
      }
      publishedIds.push(event.id);
    }
    // Publishing stays outside the lock; only the two writes to the document are serialized with
    // the service's own writes.
    await this.withDocumentLock(document._id, async () => {
      if (publishedIds.length > 0) {
        await this.collection.updateOne(
          { _id: document._id },
          { $unset: Object.fromEntries(publishedIds.map((id) => [`outbox.${id}`, ''])) },
        );
      }
      // Matches only an empty (or absent) map: an event staged since our read keeps the flag set.
      await this.collection.updateOne(
        { _id: document._id, $or: [{ outbox: {} }, { outbox: { $exists: false } }] },
        { $unset: { outboxPending: '' } },
      );
    });
    if (publishFailure !== undefined) throw publishFailure;
    return publishedIds.length;
  }

  private withDocumentLock(documentId: unknown, write: () => Promise<void>): Promise<void> {
    const { locks } = this.options;
    return locks ? locks.withLock(String(documentId), write) : write();
  }
}
