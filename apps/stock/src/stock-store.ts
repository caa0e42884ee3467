import type { Collection, Db } from 'mongodb';
import type { ItemStock } from '@oms/contracts';
import { isDuplicateKeyError } from '@oms/persistence';
import { notFound } from '@oms/rpc';
import { ItemLedger, type ItemDocument, type ItemVersion, type ItemVersionDocument } from './item-ledger';
import {
  commitPlan,
  commitStep,
  ensureItemStep,
  heldQuantity,
  holdStep,
  releasePlan,
  releaseStep,
  replayReserve,
  reserveAnswer,
  setAvailableStep,
  settlementOf,
  type Line,
  type Outcome,
  type OutOfStockLine,
  type ReservationState,
  type ValidReserveRequest,
} from './reservation-rules';

/** Written first, before any hold, so that every hold has a record the sweeper can find. */
export interface ReservationDocument {
  _id: string;
  lines: Line[];
  /** Progress, for queries and answers; `reservation_outcomes` is what decides the way it ends. */
  status: ReservationState;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * How a reservation ends, decided once by a unique insert: commit, release, expiry and rejection
 * race for it, the first insert wins and the others read it. (A conditional status update is not
 * a safe arbiter on FerretDB v1, where it is a read followed by an overwrite.)
 */
export interface OutcomeDocument {
  _id: string;
  outcome: Outcome;
  /** For `rejected`: the short lines, answered again to a repeated Reserve. */
  shortLines?: OutOfStockLine[];
  decidedAt: Date;
}

export interface ReservationView {
  id: string;
  state: ReservationState;
  lines: Line[];
  expiresAt: Date;
}

export interface StockStoreOptions {
  /** How long one item change keeps retrying against concurrent writers of that item. */
  contentionBudgetMs?: number;
}

const view = (doc: ReservationDocument, state: ReservationState = doc.status): ReservationView => ({
  id: doc._id,
  state,
  lines: doc.lines,
  expiresAt: doc.expiresAt,
});

const toItemStock = ({ itemId, state }: ItemVersion): ItemStock => ({
  itemId,
  available: state.available,
  held: heldQuantity(state),
  committed: state.committed,
});

/**
 * Availability and reservations. Every change of an item is one atomic step in the item's ledger;
 * a reservation's steps are idempotent per (item, reservation), so any process can resume a
 * reservation that another one left half-done.
 */
export class StockStore {
  private constructor(
    private readonly ledger: ItemLedger,
    private readonly reservations: Collection<ReservationDocument>,
    private readonly outcomes: Collection<OutcomeDocument>,
  ) {}

  static async open(db: Db, options: StockStoreOptions = {}): Promise<StockStore> {
    const reservations = db.collection<ReservationDocument>('reservations');
    // For the sweeper's queries. One index per call: FerretDB v1.24 drops the connection when a
    // single createIndexes names several indexes that all exist already (every restart).
    await reservations.createIndex({ status: 1, expiresAt: 1 });
    await reservations.createIndex({ status: 1, updatedAt: 1 });
    const ledger = new ItemLedger(
      db.collection<ItemVersionDocument>('stock_item_versions'),
      db.collection<ItemDocument>('stock_items'),
      options.contentionBudgetMs ?? 10_000,
    );
    return new StockStore(ledger, reservations, db.collection<OutcomeDocument>('reservation_outcomes'));
  }

  // ------------------------------------------------------------------------------------------
  // Items
  // ------------------------------------------------------------------------------------------

  /** Items without a stock record are left out; no ids means every item. */
  async availability(itemIds: readonly string[]): Promise<ItemStock[]> {
    const items = await this.ledger.currentMany(itemIds.length > 0 ? itemIds : undefined);
    return items.map(toItemStock).sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
  }

  /** Creates the record of an item not stocked yet (an item added to the menu can be stocked). */
  async setAvailable(itemId: string, available: number): Promise<ItemStock> {
    const { item } = await this.ledger.apply(itemId, (state) => setAvailableStep(state, available), {
      kind: 'set',
    });
    return toItemStock(item!);
  }

  /** Re-seeding is harmless: an existing record is returned as it is. */
  async ensureItem(itemId: string, initialAvailable: number): Promise<ItemStock> {
    const { item } = await this.ledger.apply(itemId, (state) => ensureItemStep(state, initialAvailable), {
      kind: 'ensure',
    });
    return toItemStock(item!);
  }

  // ------------------------------------------------------------------------------------------
  // Reservations
  // ------------------------------------------------------------------------------------------

  async reservation(id: string): Promise<ReservationView | undefined> {
    const doc = await this.reservations.findOne({ _id: id });
    return doc ? view(doc) : undefined;
  }

  /** All lines or none; idempotent per reservation id. */
  async reserve(
    { reservationId: id, lines, ttlSeconds }: ValidReserveRequest,
    now = new Date(),
  ): Promise<ReservationView> {
    const fresh: ReservationDocument = {
      _id: id,
      lines,
      status: 'pending',
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      createdAt: now,
      updatedAt: now,
    };
    let doc = fresh;
    if (!(await this.insertReservation(fresh))) {
      doc = await this.mustFind(id);
      const outcome = await this.outcomeOf(id);
      const replay = replayReserve(id, { lines: doc.lines, state: doc.status }, lines, outcome?.outcome);
      if (replay.action === 'answer-outcome') return this.answerReserve(doc, outcome!, false);
      if (replay.action === 'return-reserved') return view(doc);
      // Still pending: an earlier attempt stopped half-way or is running now; the steps are idempotent.
    }

    const shortLines = await this.holdAll(id, lines);
    if (shortLines.length > 0)
      return this.answerReserve(doc, await this.decide(id, 'rejected', shortLines), true);

    await this.setStatus(id, 'reserved');
    // A release or an expiry may have been decided while the holds were taken, and settled before
    // the last of them: settle it again (idempotent) so that no hold outlives its reservation. This
    // also puts back the final state if the line above overwrote it.
    const outcome = await this.outcomeOf(id);
    if (outcome) return this.answerReserve(doc, outcome, true);
    return view(doc, 'reserved');
  }

  /** Idempotent; only a reserved (or already committed) reservation can be committed. */
  async commit(id: string): Promise<ReservationView> {
    const doc = await this.reservations.findOne({ _id: id });
    if (!doc) throw notFound(`reservation ${id} not found`);
    let outcome = await this.outcomeOf(id);
    if (commitPlan(id, doc.status, outcome?.outcome) === 'decide') {
      outcome = await this.decide(id, 'committed');
      commitPlan(id, doc.status, outcome.outcome); // throws when a release or an expiry won the race
    }
    return this.settle(doc, outcome!, false);
  }

  /**
   * Idempotent. An unknown id is recorded as released with no lines, so that a Reserve arriving
   * after its own cancel (a retried or delayed call) cannot hold stock any more.
   */
  async release(id: string, now = new Date()): Promise<ReservationView> {
    const tombstone: ReservationDocument = {
      _id: id,
      lines: [],
      status: 'pending',
      expiresAt: now,
      createdAt: now,
      updatedAt: now,
    };
    const doc =
      (await this.reservations.findOne({ _id: id })) ??
      ((await this.insertReservation(tombstone)) ? tombstone : await this.mustFind(id));
    let outcome = await this.outcomeOf(id);
    if (releasePlan(id, outcome?.outcome) === 'decide') {
      outcome = await this.decide(id, 'released');
      releasePlan(id, outcome.outcome); // throws when a commit won the race
    }
    return this.settle(doc, outcome!, false);
  }

  // ------------------------------------------------------------------------------------------
  // For the sweeper
  // ------------------------------------------------------------------------------------------

  /** Undecided reservations past their expiry (pending ones include those a crash left half-done). */
  async findExpired(now: Date, limit: number): Promise<ReservationDocument[]> {
    return this.reservations
      .find({ status: { $in: ['pending', 'reserved'] }, expiresAt: { $lte: now } })
      .sort({ expiresAt: 1 })
      .limit(limit)
      .toArray();
  }

  /** Decided reservations whose settlement has not moved since `before` (its process probably died). */
  async findStuck(before: Date, limit: number): Promise<ReservationDocument[]> {
    return this.reservations
      .find({ status: { $in: ['committing', 'releasing'] }, updatedAt: { $lte: before } })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .toArray();
  }

  /** Expires a reservation, unless a commit or release was decided first: then finishes that one. */
  async expire(doc: ReservationDocument): Promise<ReservationView> {
    return this.settle(doc, await this.decide(doc._id, 'expired'), true);
  }

  /** Finishes the steps of a decided reservation. */
  async resume(doc: ReservationDocument): Promise<ReservationView | undefined> {
    const outcome = await this.outcomeOf(doc._id);
    return outcome ? this.settle(doc, outcome, true) : undefined;
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Takes the holds in item order. At the first line that cannot be held it stops, and reports
   * every line that is short now, so the caller learns everything it must change at once.
   */
  private async holdAll(id: string, lines: readonly Line[]): Promise<OutOfStockLine[]> {
    const short: OutOfStockLine[] = [];
    for (const line of lines) {
      if (short.length === 0) {
        const { result } = await this.ledger.apply(
          line.itemId,
          (state) => holdStep(state, id, line.quantity),
          {
            kind: 'hold',
            reservationId: id,
          },
        );
        if (result.kind === 'short')
          short.push({ itemId: line.itemId, requested: line.quantity, available: result.available });
      } else {
        const result = holdStep((await this.ledger.current(line.itemId))?.state, id, line.quantity);
        if (result.kind === 'short')
          short.push({ itemId: line.itemId, requested: line.quantity, available: result.available });
      }
    }
    return short;
  }

  /** Settles the reservation's outcome, then answers Reserve by it. */
  private async answerReserve(
    doc: ReservationDocument,
    outcome: OutcomeDocument,
    force: boolean,
  ): Promise<ReservationView> {
    const settled = await this.settle(doc, outcome, force);
    reserveAnswer(doc._id, outcome.outcome, outcome.shortLines ?? []);
    return settled;
  }

  /**
   * Carries out a decided outcome on every line (commit or release each hold; a missing hold means
   * that line is done) and records the final state. `force` runs the steps even when the stored
   * state says they are done: when a hold may have been taken after a settlement ran.
   */
  private async settle(
    doc: ReservationDocument,
    { outcome }: OutcomeDocument,
    force: boolean,
  ): Promise<ReservationView> {
    const { during, step, final } = settlementOf(outcome);
    if (doc.status === final && !force) return view(doc);
    if (doc.status !== during && doc.status !== final) await this.setStatus(doc._id, during);
    const apply = step === 'commit' ? commitStep : releaseStep;
    for (const line of doc.lines) {
      await this.ledger.apply(line.itemId, (state) => apply(state, doc._id), {
        kind: step,
        reservationId: doc._id,
      });
    }
    if (doc.status !== final) await this.setStatus(doc._id, final);
    return view(doc, final);
  }

  /** Records an outcome unless one is there already; returns the one in force. */
  private async decide(
    id: string,
    outcome: Outcome,
    shortLines?: OutOfStockLine[],
  ): Promise<OutcomeDocument> {
    const decision: OutcomeDocument = {
      _id: id,
      outcome,
      decidedAt: new Date(),
      ...(shortLines ? { shortLines } : {}),
    };
    try {
      await this.outcomes.insertOne(decision);
      return decision;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.outcomeOf(id);
      if (!existing) throw new Error(`outcome of reservation ${id} vanished`, { cause: error });
      return existing;
    }
  }

  private async outcomeOf(id: string): Promise<OutcomeDocument | undefined> {
    return (await this.outcomes.findOne({ _id: id })) ?? undefined;
  }

  private async insertReservation(doc: ReservationDocument): Promise<boolean> {
    try {
      await this.reservations.insertOne(doc);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  private async mustFind(id: string): Promise<ReservationDocument> {
    const doc = await this.reservations.findOne({ _id: id });
    if (!doc) throw new Error(`reservation ${id} vanished`);
    return doc;
  }

  /** By `_id` alone: FerretDB v1 scans the whole collection for any other filter of an update. */
  private async setStatus(id: string, status: ReservationState): Promise<void> {
    await this.reservations.updateOne({ _id: id }, { $set: { status, updatedAt: new Date() } });
  }
}
