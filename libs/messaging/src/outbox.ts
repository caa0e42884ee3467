import type { Collection, Document, Filter } from 'mongodb';
import { retryOnConflict, withVersionBump } from '@oms/persistence';
import type { Registry } from 'prom-client';
import type { Logger } from '@oms/logging';
import { DueTimer } from '@oms/resilience';
import type { DomainEvent } from './event';
import { registerOutboxBacklogGauge } from './metrics';
import { captureTraceContext, withCapturedTraceContext } from '@oms/telemetry/api';

/**
 * The transactional outbox without transactions: the document whose state changes carries the
 * events that change causes, written by the same single-document update.
 *
 *   const order = await orders.findOneAndUpdate(
 *     { _id: id, status: 'awaiting_payment' },
 *     { $set: { status: 'paid', ...stageEvents([newEvent('order.paid', { orderId: id })]).$set } },
 *   );
 *   relay.handOff(order); // publish now, without waiting for the next poll
 *
 * The relay publishes staged events with confirms and then removes them, in one versioned write.
 * A crash before the publish loses nothing (the relay's poll finds them later); a crash between
 * publish and removal publishes twice, which consumers absorb through their Inbox.
 *
 * After a hand-off, the removal waits a moment (`removeAfterMs`) for the document's next write
 * to carry it (`OutboxDocuments` asks for it): an order's next write, to awaiting_payment, comes
 * tens of milliseconds after its order.created went out, so its removal costs no write of its
 * own. A removal no write took is written by the relay.
 */

/** An event waiting in a document, with the trace context of the request that staged it. */
interface StagedEvent extends DomainEvent {
  traceContext?: Record<string, string>;
}

/** The fields stageEvents() adds to a document. Services should leave them out of their API responses. */
export interface OutboxFields {
  /** Staged events keyed by event id, so a staging never replaces another's events. */
  outbox?: Record<string, StagedEvent>;
  /** Set with every staging; cleared with the last published event. Indexed: the relay's query. */
  outboxPending?: boolean;
}

/** The longest pause between passes while they fail. */
const FAILING_RETRY_MS = 5000;

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

/** A document as a write left it: enough for the relay to publish its staged events at once. */
export type StagedDocument = Document & OutboxFields & { v?: number };

/** Events of a document that are published and still staged, and the version they were read at. */
export interface PublishedEvents {
  documentId: unknown;
  eventIds: string[];
  v: number;
}

/** What a store's writes need of the relay of its collection (an OutboxRelay is one). */
export interface OutboxHandOff {
  /** Publishes what a write staged, from the document the write returned. */
  handOff(document: StagedDocument): void;
  /** The removal waiting for the next write of the document (by `String(_id)`), which now carries it. */
  takeRemoval(documentKey: string): PublishedEvents | undefined;
  /** A write could not carry the removal it took: the relay writes it. */
  giveBackRemoval(removal: PublishedEvents): void;
}

/** A relay for stores that stage nothing worth publishing (unit tests). */
export const relayNothing = (): OutboxHandOff => ({
  handOff: () => undefined,
  takeRemoval: () => undefined,
  giveBackRemoval: () => undefined,
});

/** How a store gets the relay of its collection (the service context's `messaging.relayOutbox`). */
export type RelayOutbox<TSchema extends Document> = (collection: Collection<TSchema>) => OutboxHandOff;

export interface OutboxRelayOptions<TSchema extends Document> {
  collection: Collection<TSchema>;
  bus: EventPublisher;
  logger: Logger;
  /** Pause between polls while there is work. Default 200 ms; it doubles while polls find nothing. */
  intervalMs?: number;
  /** Longest pause between polls when idle: the safety net for events no hand-off published. Default 15 s. */
  idleIntervalMs?: number;
  /** Documents per pass. Default 100. */
  batch?: number;
  /**
   * How long the poll leaves a document it finds pending to the hand-off of the write that staged
   * it (which is on its way while the write's answer is): only one still pending after this is
   * the poll's. Without it, a poll that lands between a write and its hand-off publishes the
   * same events as the hand-off (2 % of orders under load). It also covers a removal's wait
   * (`removeAfterMs`), during which the document stays pending. So a crashed process's events are
   * published by another process this long after that one first saw them. Default 10 s;
   * `relayOnce` ignores it.
   */
  handOffGraceMs?: number;
  /**
   * How long the removal of events a hand-off published waits for the document's next write to
   * carry it, before the relay writes it itself. Keep it well under `handOffGraceMs`: until the
   * removal is written, another process's poll sees the document pending. Default 5 s: under
   * saturation an order's next write comes seconds after its order.created (the consumers' queues
   * are long), and at 1 s half the orders had their removal written on its own. 0 writes at once.
   */
  removeAfterMs?: number;
  /** When given, `oms_outbox_backlog{collection}` is reported here. */
  metrics?: Registry;
  /**
   * Runs the relay's polls: in a service, its background loops (drained on shutdown before the
   * relay stops); by default a timer of the relay's own.
   */
  schedulePolls?: PollScheduler;
}

/** Runs `round` again and again, sleeping what it returns (within the bounds); `wake` runs it soon. */
export type PollScheduler = (
  round: () => Promise<number>,
  timing: { minMs: number; maxMs: number },
) => { wake(): void };

interface PassOutcome {
  published: number;
  documents: number;
  /** When the first document left to a hand-off is the poll's (Infinity: none). */
  graceEndsInMs: number;
}

export class OutboxRelay<TSchema extends Document = Document> implements OutboxHandOff {
  private readonly collection: Collection<StagedDocument>;
  private readonly intervalMs: number;
  private readonly idleIntervalMs: number;
  private readonly batch: number;
  private readonly handOffGraceMs: number;
  private readonly removeAfterMs: number;
  /**
   * Removals of published events waiting for their document's next write, by document key, each
   * with the time the relay writes it itself.
   */
  private readonly removals = new Map<string, { removal: PublishedEvents; dueAt: number }>();
  private removalTimer?: NodeJS.Timeout;
  /** Documents the poll found pending, and when it first did (see handOffGraceMs). */
  private firstSeenPending = new Map<string, number>();
  private indexEnsured?: Promise<void>;
  /** Passes never overlap, even when tests call relayOnce() next to a running loop. */
  private passes: Promise<unknown> = Promise.resolve();
  /** Documents being relayed by a hand-off right now: the poll leaves them alone. */
  private readonly inFlight = new Set<string>();
  private readonly stagedDuringHandOff = new Set<string>();
  private readonly handOffs = new Set<Promise<unknown>>();
  private running = false;
  private polls?: { wake(): void };
  private ownTimer?: DueTimer;
  private pauseMs: number;
  private stopReportingBacklog?: () => void;

  constructor(private readonly options: OutboxRelayOptions<TSchema>) {
    this.collection = options.collection as unknown as Collection<StagedDocument>;
    this.intervalMs = options.intervalMs ?? 200;
    this.idleIntervalMs = Math.max(this.intervalMs, options.idleIntervalMs ?? 15_000);
    this.pauseMs = this.intervalMs;
    this.batch = options.batch ?? 100;
    this.handOffGraceMs = options.handOffGraceMs ?? 10_000;
    this.removeAfterMs = options.removeAfterMs ?? 5000;
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
    const schedule = this.options.schedulePolls ?? this.ownPolls;
    this.polls = schedule(() => this.pollRound(), { minMs: this.intervalMs, maxMs: this.idleIntervalMs });
  }

  /** Asks for a poll now rather than at the next interval. */
  notify(): void {
    this.pauseMs = this.intervalMs;
    this.polls?.wake();
  }

  /**
   * Publishes the events a write just staged, from the document the write returned: no read. If
   * it fails (the broker is away), the events stay staged and the poll publishes them later.
   */
  handOff(document: StagedDocument): void {
    const id = String(document._id);
    if (!this.running || !document.outbox) return void this.notify();
    if (this.inFlight.has(id)) return void this.stagedDuringHandOff.add(id);
    this.inFlight.add(id);
    const relayed = this.relayDocument(document, { deferRemoval: this.removeAfterMs > 0 })
      .catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, documentId: id, collection: this.collection.collectionName },
          'could not publish staged events at once; the poll will retry',
        );
        this.notify();
      })
      .finally(() => {
        this.inFlight.delete(id);
        this.handOffs.delete(relayed);
        // A newer write staged more while this one ran: the poll takes it from the database.
        if (this.stagedDuringHandOff.delete(id)) this.notify();
      });
    this.handOffs.add(relayed);
  }

  takeRemoval(key: string): PublishedEvents | undefined {
    const waiting = this.removals.get(key);
    this.removals.delete(key);
    return waiting?.removal;
  }

  giveBackRemoval(removal: PublishedEvents): void {
    this.deferRemoval(removal);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopReportingBacklog?.();
    await this.ownTimer?.stop();
    await this.passes;
    await Promise.allSettled([...this.handOffs]);
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
    await this.writeRemovals();
    // What failed now stays in the document, for the poll of whichever process runs next.
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
  }

  /** Writes every removal no write has taken. Failed ones wait for the next try. */
  async writeRemovals(): Promise<void> {
    await this.writeRemovalsDueBy(Infinity);
  }

  /**
   * Writes the removals whose wait is over, and sets the timer for the next one. Each removal
   * waits its own removeAfterMs: a flush of everything at once gave a removal deferred a moment
   * before it no time for its write (under load, two orders in three had their removal written
   * on its own).
   */
  private async writeRemovalsDueBy(now: number): Promise<void> {
    const due: PublishedEvents[] = [];
    for (const [key, { removal, dueAt }] of this.removals) {
      if (dueAt > now) continue;
      due.push(removal);
      this.removals.delete(key);
    }
    this.armRemovalTimer();
    const failed = (
      await Promise.all(
        due.map((removal) =>
          this.removePublished(removal).then(
            () => undefined,
            (error: unknown) => ({ removal, error }),
          ),
        ),
      )
    ).filter((failure) => failure !== undefined);
    if (failed.length === 0) return;
    this.options.logger.warn(
      { err: failed[0]?.error, documents: failed.length, collection: this.collection.collectionName },
      'could not remove published events; will retry',
    );
    for (const { removal } of failed) this.deferRemoval(removal, { retry: true });
  }

  /**
   * One pass: for each document with pending events, publishes them oldest first (by occurredAt)
   * with confirms, then removes them. Returns how many it published.
   */
  async relayOnce(): Promise<number> {
    return (await this.queuePass(0)).published;
  }

  /** Staged, unpublished events (the backlog gauge). */
  async backlog(): Promise<number> {
    // FerretDB v1 lacks $objectToArray/$size, so the map sizes are summed here.
    const pending = await this.collection
      .find({ outboxPending: true }, { projection: { outbox: 1 } })
      .toArray();
    return pending.reduce((total, document) => total + Object.keys(document.outbox ?? {}).length, 0);
  }

  /** One poll; returns how long to sleep before the next. */
  private async pollRound(): Promise<number> {
    if (!this.running) return this.idleIntervalMs;
    let documents = 0;
    let graceEndsInMs = Infinity;
    let failed = false;
    try {
      ({ documents, graceEndsInMs } = await this.queuePass(this.handOffGraceMs));
    } catch (error) {
      failed = true;
      this.options.logger.warn(
        { err: error, collection: this.collection.collectionName },
        'outbox pass failed; will retry',
      );
    }
    // A full batch means more may be waiting: go on at once. An empty poll means the hand-offs
    // keep up: poll less and less often, down to the idle interval. A failing pass (the broker
    // or the database is away) is retried at most FAILING_RETRY_MS apart, so events go out soon
    // after it is back. Documents left to their hand-offs are looked at again once their grace
    // is over.
    if (documents >= this.batch) return 0;
    const longest = failed ? Math.min(FAILING_RETRY_MS, this.idleIntervalMs) : this.idleIntervalMs;
    this.pauseMs = documents > 0 ? this.intervalMs : Math.min(this.pauseMs * 2, longest);
    return Math.min(this.pauseMs, graceEndsInMs);
  }

  private readonly ownPolls: PollScheduler = (round, timing) => {
    this.ownTimer = new DueTimer(round, {
      ...timing,
      onError: (error) => this.options.logger.warn({ err: error }, 'outbox poll failed; will retry'),
    });
    this.ownTimer.start();
    return this.ownTimer;
  };

  private queuePass(graceMs: number): Promise<PassOutcome> {
    const pass = this.passes.then(() => this.relayPass(graceMs));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async relayPass(graceMs: number): Promise<PassOutcome> {
    this.indexEnsured ??= ensureOutboxIndex(this.collection).catch((error: unknown) => {
      this.indexEnsured = undefined;
      throw error;
    });
    await this.indexEnsured;
    const pending = await this.collection
      .find({ outboxPending: true }, { projection: { outbox: 1, v: 1 }, limit: this.batch })
      .toArray();
    const { documents, graceEndsInMs } = this.pastGrace(pending, graceMs);
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
    return { published, documents: documents.length, graceEndsInMs };
  }

  /** The pending documents that are the poll's: not in a hand-off here, and pending past `graceMs`. */
  private pastGrace(
    pending: StagedDocument[],
    graceMs: number,
  ): { documents: StagedDocument[]; graceEndsInMs: number } {
    const now = Date.now();
    const seen = new Map<string, number>();
    const documents: StagedDocument[] = [];
    let graceEndsInMs = Infinity;
    for (const document of pending) {
      const id = String(document._id);
      // Published, its removal waiting: not the poll's to publish again.
      if (this.inFlight.has(id) || this.removals.has(id)) continue;
      const firstSeen = this.firstSeenPending.get(id) ?? now;
      seen.set(id, firstSeen);
      const left = firstSeen + graceMs - now;
      if (left > 0) graceEndsInMs = Math.min(graceEndsInMs, left);
      else documents.push(document);
    }
    this.firstSeenPending = seen; // documents no longer pending are forgotten
    return { documents, graceEndsInMs };
  }

  private async relayDocument(
    document: StagedDocument,
    { deferRemoval = false }: { deferRemoval?: boolean } = {},
  ): Promise<number> {
    // A write outside OutboxDocuments may return a document whose published events still wait to
    // be removed: they are not published again, and go with this document's removal.
    const waiting = this.takeRemoval(String(document._id));
    const alreadyPublished = new Set(waiting?.eventIds);
    // Array.sort is stable: events staged in the same millisecond keep their staging order.
    const staged = Object.values(document.outbox ?? {})
      .filter((event) => !alreadyPublished.has(event.id))
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    const publishedIds: string[] = [...alreadyPublished];
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
    const allPublished = publishedIds.length === Object.keys(document.outbox ?? {}).length;
    if (deferRemoval && allPublished && document.v !== undefined && publishedIds.length > 0)
      this.deferRemoval({ documentId: document._id, eventIds: publishedIds, v: document.v });
    else if (publishedIds.length > 0 || staged.length === 0)
      await this.removePublished(
        { documentId: document._id, eventIds: publishedIds, v: document.v },
        allPublished,
      );
    if (publishFailure !== undefined) throw publishFailure;
    return publishedIds.length - alreadyPublished.size;
  }

  /** Leaves a removal to the document's next write, or to the relay's write after removeAfterMs. */
  private deferRemoval(removal: PublishedEvents, { retry = false } = {}): void {
    const key = String(removal.documentId);
    const earlier = this.removals.get(key);
    const dueAt = Date.now() + (retry ? Math.max(this.removeAfterMs, FAILING_RETRY_MS) : this.removeAfterMs);
    // Two removals of one document (a write gave one back after a newer hand-off): every id of
    // both is published, and the newer version is the one whose events they all are.
    this.removals.set(key, {
      removal: {
        documentId: removal.documentId,
        eventIds: [...new Set([...(earlier?.removal.eventIds ?? []), ...removal.eventIds])],
        v: Math.max(earlier?.removal.v ?? removal.v, removal.v),
      },
      dueAt: Math.min(earlier?.dueAt ?? dueAt, dueAt),
    });
    this.armRemovalTimer();
  }

  /** One timer, for the earliest waiting removal; later ones are seen to when it fires. */
  private armRemovalTimer(): void {
    if (this.removalTimer !== undefined || this.removals.size === 0) return;
    let earliest = Infinity;
    for (const { dueAt } of this.removals.values()) earliest = Math.min(earliest, dueAt);
    this.removalTimer = setTimeout(
      () => {
        this.removalTimer = undefined;
        void this.writeRemovalsDueBy(Date.now());
      },
      Math.max(0, earliest - Date.now()),
    ).unref();
  }

  /**
   * Removes published events. When the document is still the version we read (nothing staged
   * since), the same write clears `outboxPending`; otherwise only the events go, and the flag
   * stays for the next poll, which finds the newer events or an empty map.
   */
  private async removePublished(
    { documentId, eventIds, v }: Omit<PublishedEvents, 'v'> & { v: number | undefined },
    allPublished = true,
  ): Promise<void> {
    const events = Object.fromEntries(eventIds.map((id) => [`outbox.${id}`, '']));
    if (allPublished && v !== undefined) {
      const cleared = await retryOnConflict(() =>
        this.collection.updateOne(
          { _id: documentId, v } as Filter<StagedDocument>,
          withVersionBump<StagedDocument>({ $unset: { ...events, outboxPending: '' } }),
        ),
      );
      if (cleared.modifiedCount === 1) return;
    }
    if (eventIds.length === 0) return;
    await retryOnConflict(() =>
      this.collection.updateOne(
        { _id: documentId } as Filter<StagedDocument>,
        v === undefined ? { $unset: events } : withVersionBump<StagedDocument>({ $unset: events }),
      ),
    );
  }
}
