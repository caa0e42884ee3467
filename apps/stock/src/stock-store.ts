import type { Db, Filter } from 'mongodb';
import type { ItemStock } from '@oms/contracts';
import { isDuplicateKeyError, VersionedCollection, type Versioned } from '@oms/persistence';
import { notFound } from '@oms/rpc';
import {
  commitPlan,
  compareIds,
  finalState,
  releasePlan,
  replayReserve,
  reserveAnswer,
  type Line,
  type OutOfStockLine,
  type ReleaseEnd,
  type ReservationFacts,
  type ReservationState,
  type ValidReserveRequest,
} from './reservation-rules';

/** A reservation's hold on one item, under `holds.<reservationId>`: what makes each step idempotent. */
export interface Hold {
  quantity: number;
  /** The reservation's expiry: a hold still here well after it was left behind by a crash. */
  until: Date;
}

/** One item's stock. `reserved` is the sum of `holds`, kept alongside so reads need no sum. */
export interface ItemDocument extends Versioned {
  _id: string;
  available: number;
  reserved: number;
  committed: number;
  holds: Record<string, Hold>;
  updatedAt: Date;
}

/** Written first, before any hold, so that every hold has a record the sweeper can find. */
export interface ReservationDocument extends Versioned {
  _id: string;
  lines: Line[];
  status: ReservationState;
  /** How a `releasing` reservation ends. */
  endsAs?: ReleaseEnd;
  /** For `rejected`: the short lines, answered again to a repeated Reserve. */
  shortLines?: OutOfStockLine[];
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface ReservationView {
  id: string;
  state: ReservationState;
  lines: Line[];
  expiresAt: Date;
}

const view = (doc: ReservationDocument, state: ReservationState = doc.status): ReservationView => ({
  id: doc._id,
  state,
  lines: doc.lines,
  expiresAt: doc.expiresAt,
});

const facts = (doc: ReservationDocument): ReservationFacts => ({
  lines: doc.lines,
  state: doc.status,
  endsAs: doc.endsAs,
  shortLines: doc.shortLines,
});

const toItemStock = (doc: ItemDocument): ItemStock => ({
  itemId: doc._id,
  available: doc.available,
  held: doc.reserved,
  committed: doc.committed,
});

const holdPath = (reservationId: string) => `holds.${reservationId}`;

/**
 * Availability and reservations, as MongoDB's inventory pattern writes them: a hold is one
 * conditional update of the item (`available >= quantity`, no hold of this reservation yet) that
 * moves the quantity into `holds.<reservationId>`; commit and release move it out again, each
 * conditional on the hold being there. A reservation's way of ending is decided by one
 * conditional update of its status, so commit, release and expiry never both win.
 */
export class StockStore {
  private constructor(
    private readonly items: VersionedCollection<ItemDocument>,
    private readonly reservations: VersionedCollection<ReservationDocument>,
  ) {}

  static async open(db: Db): Promise<StockStore> {
    const reservations = db.collection<ReservationDocument>('reservations');
    // The sweeper's queries are equalities on status (the rest is filtered among those few).
    await reservations.createIndex({ status: 1, expiresAt: 1 });
    return new StockStore(
      new VersionedCollection(db.collection<ItemDocument>('stock_items')),
      new VersionedCollection(reservations),
    );
  }

  // ------------------------------------------------------------------------------------------
  // Items
  // ------------------------------------------------------------------------------------------

  /** Items without a stock record are left out; no ids means every item. */
  async availability(itemIds: readonly string[]): Promise<ItemStock[]> {
    const filter: Filter<ItemDocument> = itemIds.length > 0 ? { _id: { $in: [...itemIds] } } : {};
    const docs = await this.items.collection.find(filter, { projection: { holds: 0 } }).toArray();
    return docs.map(toItemStock).sort((a, b) => compareIds(a.itemId, b.itemId));
  }

  /** Sets what can be reserved now; holds and committed stock stay. Stocks an item not stocked yet. */
  async setAvailable(itemId: string, available: number): Promise<ItemStock> {
    const doc = await this.items.findOneAndUpdate(
      { _id: itemId },
      {
        $set: { available, updatedAt: new Date() },
        $setOnInsert: { reserved: 0, committed: 0, holds: {} },
      },
      { upsert: true },
    );
    return toItemStock(doc!);
  }

  /** Re-seeding is harmless: an existing record is returned as it is, never reset. */
  async ensureItem(itemId: string, initialAvailable: number): Promise<ItemStock> {
    try {
      const doc = {
        _id: itemId,
        available: initialAvailable,
        reserved: 0,
        committed: 0,
        holds: {},
        updatedAt: new Date(),
      };
      await this.items.insertOne(doc);
      return toItemStock({ ...doc, v: 0 });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return toItemStock((await this.items.collection.findOne({ _id: itemId }))!);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reservations
  // ------------------------------------------------------------------------------------------

  async reservation(id: string): Promise<ReservationView | undefined> {
    const doc = await this.reservations.collection.findOne({ _id: id });
    return doc ? view(doc) : undefined;
  }

  /** All lines or none; idempotent per reservation id, and a crashed attempt is resumed by the next. */
  async reserve(
    { reservationId: id, lines, ttlSeconds }: ValidReserveRequest,
    now = new Date(),
  ): Promise<ReservationView> {
    const fresh: Omit<ReservationDocument, 'v'> = {
      _id: id,
      lines,
      status: 'pending',
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      createdAt: now,
      updatedAt: now,
    };
    let doc = { ...fresh, v: 0 };
    if (!(await this.insertReservation(fresh))) {
      doc = await this.mustFind(id);
      if (replayReserve(id, facts(doc), lines) === 'answer') return this.answerReserve(doc);
    }

    const shortLines = await this.holdAll(id, lines, doc.expiresAt);
    const decided =
      shortLines.length > 0
        ? await this.decide(id, ['pending'], { status: 'releasing', endsAs: 'rejected', shortLines })
        : await this.decide(id, ['pending'], { status: 'reserved' });
    // Lost to a release or an expiry decided while the holds were taken: it may have run before
    // our last hold, so its steps run again (each is a no-op where the hold is gone).
    return this.answerReserve(decided ?? (await this.mustFind(id)), { resettle: decided === null });
  }

  /** Idempotent; only a reserved (or already committed) reservation can be committed. */
  async commit(id: string): Promise<ReservationView> {
    let doc = await this.decide(id, ['reserved'], { status: 'committing' });
    if (!doc) {
      doc = await this.reservations.collection.findOne({ _id: id });
      if (!doc) throw notFound(`reservation ${id} not found`);
      if (commitPlan(id, facts(doc)) === 'done') return view(doc);
    }
    return this.settle(doc);
  }

  /**
   * Idempotent. An unknown id is recorded as released with no lines, so that a Reserve arriving
   * after its own cancel (a retried or delayed call) cannot hold stock any more.
   */
  async release(id: string, endsAs: ReleaseEnd = 'released', now = new Date()): Promise<ReservationView> {
    for (;;) {
      const decided = await this.decide(id, ['pending', 'reserved'], { status: 'releasing', endsAs });
      if (decided) return this.settle(decided);
      const doc = await this.reservations.collection.findOne({ _id: id });
      if (doc) return releasePlan(id, doc.status) === 'finish' ? this.settle(doc) : view(doc);
      const tombstone = {
        _id: id,
        lines: [],
        status: endsAs,
        expiresAt: now,
        createdAt: now,
        updatedAt: now,
      };
      if (await this.insertReservation(tombstone)) return view({ ...tombstone, v: 0 });
      // A Reserve inserted it meanwhile: decide against that one.
    }
  }

  // ------------------------------------------------------------------------------------------
  // For the sweeper
  // ------------------------------------------------------------------------------------------

  /** Undecided reservations past their expiry (pending ones include those a crash left half-done). */
  async findExpired(now: Date, limit: number): Promise<ReservationDocument[]> {
    return this.findByStatus(['pending', 'reserved'], { expiresAt: { $lte: now } }, limit);
  }

  /** Decided reservations whose steps have not moved since `before` (their process probably died). */
  async findStuck(before: Date, limit: number): Promise<ReservationDocument[]> {
    return this.findByStatus(['committing', 'releasing'], { updatedAt: { $lte: before } }, limit);
  }

  /** Expires a reservation, unless it was decided another way first. */
  async expire(doc: ReservationDocument): Promise<ReservationView> {
    return this.release(doc._id, 'expired');
  }

  /** Finishes the steps of a decided reservation. */
  async resume(doc: ReservationDocument): Promise<ReservationView> {
    return this.settle(doc);
  }

  /**
   * Holds still on items well after their reservation's expiry: left by a Reserve that crashed
   * after its reservation was released under it. Gives each back when its reservation has ended
   * without a sale (a pending or reserved one is the expiry sweep's, a committing one is resumed).
   */
  async releaseLeftoverHolds(before: Date): Promise<number> {
    let released = 0;
    // Items are a small collection (the menu): reading all of it is one short scan.
    for (const item of await this.items.collection.find({ reserved: { $gt: 0 } }).toArray()) {
      for (const [reservationId, hold] of Object.entries(item.holds)) {
        if (hold.until.getTime() > before.getTime()) continue;
        const reservation = await this.reservations.collection.findOne({ _id: reservationId });
        if (reservation?.status === 'committing') await this.settle(reservation);
        else if (!reservation || isEnded(reservation.status))
          released += await this.moveHold(item._id, reservationId, hold.quantity, 'release');
      }
    }
    return released;
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Takes the holds in item order. At the first line that cannot be held it stops taking, and
   * reports every line that is short now, so the caller learns everything it must change at once.
   */
  private async holdAll(id: string, lines: readonly Line[], until: Date): Promise<OutOfStockLine[]> {
    const short: OutOfStockLine[] = [];
    for (const { itemId, quantity } of lines) {
      const held =
        short.length === 0 &&
        (
          await this.items.updateOne(
            { _id: itemId, available: { $gte: quantity }, [holdPath(id)]: { $exists: false } },
            {
              $inc: { available: -quantity, reserved: quantity },
              $set: { [holdPath(id)]: { quantity, until }, updatedAt: new Date() },
            },
          )
        ).modifiedCount === 1;
      if (held) continue;
      // Not held now: already held by an earlier attempt, or short.
      const item = await this.items.collection.findOne({ _id: itemId });
      if (item?.holds[id]) continue;
      if (short.length > 0 && (item?.available ?? 0) >= quantity) continue;
      short.push({ itemId, requested: quantity, available: item?.available ?? 0 });
    }
    return short;
  }

  /** Finishes the steps of the reservation's decided ending (when asked to), then answers Reserve. */
  private async answerReserve(
    doc: ReservationDocument,
    options: { resettle?: boolean } = {},
  ): Promise<ReservationView> {
    const settled = doc.status === 'releasing' || options.resettle ? await this.settle(doc) : view(doc);
    reserveAnswer(doc._id, facts(doc));
    return settled;
  }

  /**
   * Carries out a decided ending on every line (commit or release each hold; a missing hold means
   * that line is done) and records the final state. Releasing a final `committed` reservation's
   * holds gives back only holds a late duplicate Reserve took after the commit.
   */
  private async settle(doc: ReservationDocument): Promise<ReservationView> {
    const final = finalState(facts(doc));
    if (final === 'pending' || final === 'reserved') return view(doc);
    const step = doc.status === 'committing' ? 'commit' : 'release';
    for (const line of doc.lines) await this.moveHold(line.itemId, doc._id, line.quantity, step);
    if (doc.status === 'committing' || doc.status === 'releasing') {
      await this.reservations.updateOne(
        { _id: doc._id, status: doc.status },
        { $set: { status: final, updatedAt: new Date() } },
      );
    }
    return view(doc, final);
  }

  /** Moves one hold out of an item, into committed or back to available; 0 when it was gone. */
  private async moveHold(
    itemId: string,
    reservationId: string,
    quantity: number,
    step: 'commit' | 'release',
  ): Promise<number> {
    const moved = await this.items.updateOne(
      // The quantity is part of the precondition: it is what the $inc moves.
      { _id: itemId, [`${holdPath(reservationId)}.quantity`]: quantity },
      {
        $inc:
          step === 'commit'
            ? { reserved: -quantity, committed: quantity }
            : { reserved: -quantity, available: quantity },
        $unset: { [holdPath(reservationId)]: '' },
        $set: { updatedAt: new Date() },
      },
    );
    return moved.modifiedCount === 1 ? quantity : 0;
  }

  /** Moves a reservation on from one of `from`; null when it was not in any of them any more. */
  private decide(
    id: string,
    from: ReservationState[],
    set: Partial<Pick<ReservationDocument, 'status' | 'endsAs' | 'shortLines'>>,
  ): Promise<ReservationDocument | null> {
    return this.reservations.findOneAndUpdate(
      { _id: id, status: { $in: from } },
      { $set: { ...set, updatedAt: new Date() } },
    );
  }

  /** One equality query per status: each is served by the status index, a `$in` would not be. */
  private async findByStatus(
    statuses: ReservationState[],
    filter: Filter<ReservationDocument>,
    limit: number,
  ): Promise<ReservationDocument[]> {
    const found: ReservationDocument[] = [];
    for (const status of statuses) {
      found.push(
        ...(await this.reservations.collection
          .find({ ...filter, status }, { limit: limit - found.length })
          .toArray()),
      );
      if (found.length >= limit) break;
    }
    return found;
  }

  private async insertReservation(doc: Omit<ReservationDocument, 'v'>): Promise<boolean> {
    try {
      await this.reservations.insertOne(doc);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  private async mustFind(id: string): Promise<ReservationDocument> {
    const doc = await this.reservations.collection.findOne({ _id: id });
    if (!doc) throw new Error(`reservation ${id} vanished`);
    return doc;
  }
}

const isEnded = (state: ReservationState) =>
  state === 'released' || state === 'expired' || state === 'rejected' || state === 'committed';
