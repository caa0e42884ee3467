import type { Db, Filter } from 'mongodb';
import type { ItemStock } from '@oms/contracts';
import {
  DueWork,
  ensureIndexes,
  isDuplicateKeyError,
  VersionedCollection,
  type Versioned,
} from '@oms/persistence';
import { byCodePoint, missing, type Line } from '@oms/domain';
import {
  commitPlan,
  finalState,
  isFinal,
  releasePlan,
  replayReserve,
  reservationPending,
  reserveAnswer,
  type OutOfStockLine,
  type ReleaseEnd,
  type ReservationFacts,
  type ReservationState,
  type ValidReserveRequest,
} from './reservation-rules';

/**
 * A step of a reservation on one item, marked on the item while it is in flight: the mark is what
 * makes the step happen once however often it is tried. It goes once the reservation has moved
 * past the step, so an item stays a few counters however many reservations hold it. A hold is
 * marked in `holds`, the other steps in `steps`.
 */
export type Step = 'hold' | 'commit' | 'release';

/** One item's stock: available + reserved + committed is all the stock there is. */
export interface ItemDocument extends Versioned {
  _id: string;
  available: number;
  reserved: number;
  committed: number;
  /** In-flight commit and release steps, by reservation id (a 'hold' here is an older build's). */
  steps: Record<string, Step>;
  /**
   * Holds, by reservation id, with when they were taken. Once its reservation holds every line,
   * a hold mark is read by nothing, so it is removed by this item's next hold (see StockStore).
   */
  holds?: Record<string, Date>;
  updatedAt: Date;
}

/** Written first, before any hold, so that every hold has a record the sweeper can find. */
export interface ReservationDocument extends Versioned {
  _id: string;
  lines: Line[];
  status: ReservationState;
  /** Set once every line is held: a release then gives back every line, not only marked ones. */
  heldAll?: boolean;
  /** How a `releasing` reservation ends. */
  endsAs?: ReleaseEnd;
  /** For `rejected`: the short lines, answered again to a repeated Reserve. */
  shortLines?: OutOfStockLine[];
  expiresAt: Date;
  createdAt: Date;
  /** Moves with every change: a reservation whose steps stopped moving is taken over. */
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

const stepPath = (reservationId: string) => `steps.${reservationId}`;
const holdPath = (reservationId: string) => `holds.${reservationId}`;

/** How long a hold mark that nothing reads waits for the item's next hold to take it away. */
const SPENT_HOLD_MARKS_FLUSH_MS = 1000;

/** What each step moves between an item's counters. */
const STEP_CHANGES: Record<
  Step,
  (quantity: number) => Partial<Record<'available' | 'reserved' | 'committed', number>>
> = {
  hold: (quantity) => ({ available: -quantity, reserved: quantity }),
  commit: (quantity) => ({ reserved: -quantity, committed: quantity }),
  release: (quantity) => ({ reserved: -quantity, available: quantity }),
};

export interface StockStoreOptions {
  /** A reservation whose steps have not moved for this long is taken over by whoever finds it. */
  stuckAfterMs?: number;
  /** How long a spent hold mark waits for the item's next hold before a write of its own removes it. */
  spentHoldFlushMs?: number;
}

/**
 * Availability and reservations. Each line's hold is one conditional update of the item
 * (`available >= quantity`, this reservation's step not marked yet) that moves the quantity and
 * marks the step; commit and release move it on the same way. A reservation's way of ending is
 * decided by one conditional update of its status, so commit, release and expiry never both win.
 * Steps are taken by the process that decided them; one that stopped is taken over once it has
 * not moved for `stuckAfterMs`, by a retried call or by the sweeper.
 *
 * The hold marks of a reservation that holds every line are spent: nothing reads them again. Rather
 * than a write of its own per item and reservation, each is removed by the item's next hold, which
 * is the same item's next write under load (a reservation costs three writes instead of four); one
 * still there after `spentHoldFlushMs` is removed by a write of its own, and one a stopped process
 * left is removed by the sweeper (settleLeftoverMarks).
 */
export class StockStore {
  private readonly stuckAfterMs: number;
  private readonly spentHoldFlushMs: number;
  /**
   * Spent hold marks by item: the reservation ids whose hold mark the item's next hold removes,
   * each with when a write of its own removes it if no hold came (`spentHoldFlushMs` after it
   * was spent).
   */
  private readonly spentHolds = new Map<string, Map<string, number>>();
  private spentHoldsTimer?: NodeJS.Timeout;
  /** When undecided reservations lapse: known from this process's Reserves, and from the database now and then. */
  private readonly lapses: DueWork<ReservationDocument>;

  private constructor(
    private readonly items: VersionedCollection<ItemDocument>,
    private readonly reservations: VersionedCollection<ReservationDocument>,
    options: StockStoreOptions,
  ) {
    this.stuckAfterMs = options.stuckAfterMs ?? 60_000;
    this.spentHoldFlushMs = options.spentHoldFlushMs ?? SPENT_HOLD_MARKS_FLUSH_MS;
    this.lapses = new DueWork(reservations.collection, {
      statuses: ['pending', 'reserved'],
      dueField: 'expiresAt',
    });
  }

  static async open(db: Db, options: StockStoreOptions = {}): Promise<StockStore> {
    const reservations = db.collection<ReservationDocument>('reservations');
    // The sweeper's queries are equalities on status (the rest is filtered among those few).
    await ensureIndexes(reservations, [{ keys: { status: 1, expiresAt: 1 } }]);
    return new StockStore(
      new VersionedCollection(db.collection<ItemDocument>('stock_items')),
      new VersionedCollection(reservations),
      options,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Items
  // ------------------------------------------------------------------------------------------

  /** Items without a stock record are left out; no ids means every item. */
  async availability(itemIds: readonly string[]): Promise<ItemStock[]> {
    const filter: Filter<ItemDocument> = itemIds.length > 0 ? { _id: { $in: [...itemIds] } } : {};
    const docs = await this.items.collection.find(filter).toArray();
    return docs.map(toItemStock).sort((a, b) => byCodePoint(a.itemId, b.itemId));
  }

  /** Sets what can be reserved now; holds and committed stock stay. Stocks an item not stocked yet. */
  async setAvailable(itemId: string, available: number): Promise<ItemStock> {
    const doc = await this.items.findOneAndUpdate(
      { _id: itemId },
      {
        $set: { available, updatedAt: new Date() },
        $setOnInsert: { reserved: 0, committed: 0, steps: {} },
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
        steps: {},
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

  /** All lines or none; idempotent per reservation id. A crashed attempt is resumed once stuck. */
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
    if (await this.insertReservation(fresh)) {
      this.lapses.noted(id, fresh.expiresAt);
    } else {
      doc = await this.mustFind(id);
      if (replayReserve(id, facts(doc), lines) === 'answer') return this.answerReserve(doc);
      // Still pending: another call is taking the holds, or stopped half-way.
      const taken = await this.takeOver(doc);
      if (!taken) throw reservationPending(id);
      doc = taken;
    }

    const shortLines = await this.holdAll(doc);
    const decided =
      shortLines.length > 0
        ? await this.decide(id, ['pending'], { status: 'releasing', endsAs: 'rejected', shortLines })
        : await this.decide(id, ['pending'], { status: 'reserved', heldAll: true });
    if (!decided) {
      // A release or an expiry was decided while the holds were taken. It gives back the holds
      // it found; holds taken after it passed are given back here (each exactly once: only
      // from the hold mark).
      for (const line of doc.lines) await this.applyStep(line.itemId, id, line.quantity, 'release', 'hold');
      return this.answerReserve(await this.mustFind(id));
    }
    return this.answerReserve(await this.settle(decided));
  }

  /** Idempotent; only a reserved (or already committed) reservation can be committed. */
  async commit(id: string): Promise<ReservationView> {
    const decided = await this.decide(id, ['reserved'], { status: 'committing' });
    if (decided) return view(await this.settle(decided));
    const doc = await this.reservations.collection.findOne({ _id: id });
    if (!doc) throw missing(`reservation ${id} not found`);
    if (commitPlan(id, facts(doc)) === 'done') return view(doc);
    return view(await this.finishIfStuck(doc));
  }

  /**
   * Idempotent. An unknown id is recorded as released with no lines, so that a Reserve arriving
   * after its own cancel (a retried or delayed call) cannot hold stock any more.
   */
  async release(id: string, endsAs: ReleaseEnd = 'released', now = new Date()): Promise<ReservationView> {
    for (;;) {
      const decided = await this.decide(id, ['pending', 'reserved'], { status: 'releasing', endsAs });
      if (decided) return view(await this.settle(decided));
      const doc = await this.reservations.collection.findOne({ _id: id });
      if (doc)
        return releasePlan(id, doc.status) === 'finish' ? view(await this.finishIfStuck(doc)) : view(doc);
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

  /**
   * Undecided reservations past their expiry (pending ones include those a crash left half-done),
   * and when the next one expires: the sweeper sleeps until then, and the database is asked only
   * when a reservation may have lapsed (see DueWork).
   */
  async findExpired(
    now: Date,
    limit: number,
  ): Promise<{ expired: ReservationDocument[]; nextExpiry?: Date }> {
    const { due, nextDue } = await this.lapses.find(now, limit);
    return { expired: due, nextExpiry: nextDue };
  }

  /** Decided reservations whose steps have not moved for `stuckAfterMs` (their process probably died). */
  async findStuck(now: Date, limit: number): Promise<ReservationDocument[]> {
    const before = new Date(now.getTime() - this.stuckAfterMs);
    return this.findByStatus(['committing', 'releasing'], { updatedAt: { $lte: before } }, limit);
  }

  /** Expires a reservation, unless it was decided another way first. */
  async expire(doc: ReservationDocument): Promise<ReservationView> {
    return this.release(doc._id, 'expired');
  }

  /** Finishes the steps of a decided reservation whose process stopped. */
  async resume(doc: ReservationDocument): Promise<ReservationView> {
    return view(await this.finishIfStuck(doc));
  }

  /**
   * Marks left on items by a process that stopped before removing them. A hold whose reservation
   * ended without ever holding every line (a Reserve that stopped after its release ran) is given
   * back; any other mark goes once its reservation has moved past the step. Returns how many
   * units were given back.
   */
  async settleLeftoverMarks(): Promise<number> {
    let givenBack = 0;
    // Items are a small collection (the menu): reading all of it is one short scan.
    for (const item of await this.items.collection.find({}).toArray()) {
      for (const [reservationId, step] of Object.entries(item.steps ?? {})) {
        if (step === 'hold') {
          // An older build's hold mark: moved to where holds are marked now, then settled below.
          await this.items.updateOne(
            { _id: item._id, [stepPath(reservationId)]: 'hold' },
            {
              $unset: { [stepPath(reservationId)]: '' },
              $set: { [holdPath(reservationId)]: item.updatedAt },
            },
          );
          (item.holds ??= {})[reservationId] = item.updatedAt;
          continue;
        }
        const reservation = await this.reservations.collection.findOne({ _id: reservationId });
        if (!reservation || isFinal(reservation.status)) await this.unmark(item._id, reservationId, step);
      }
      for (const reservationId of Object.keys(item.holds ?? {})) {
        // Spent marks of this process go with the item's next hold. (One that a hold is carrying
        // right now is not in the map: it is removed here too, harmlessly, as the unset is conditional.)
        if (this.spentHolds.get(item._id)?.has(reservationId)) continue;
        const reservation = await this.reservations.collection.findOne({ _id: reservationId });
        if (reservation?.heldAll) {
          await this.unmark(item._id, reservationId, 'hold');
        } else if (!reservation || isFinal(reservation.status)) {
          const quantity = reservation?.lines.find((line) => line.itemId === item._id)?.quantity;
          if (quantity && (await this.applyStep(item._id, reservationId, quantity, 'release', 'hold')))
            givenBack += quantity;
          // A hold without a reservation to give it back to (never the case for a hold of ours).
          else if (!quantity) await this.unmark(item._id, reservationId, 'hold');
        }
      }
    }
    return givenBack;
  }

  /** Removes every spent hold mark still waiting for its item's next hold (on close, say). */
  async flushSpentHolds(): Promise<void> {
    await this.flushSpentHoldsDueBy(Number.POSITIVE_INFINITY);
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Takes the holds in item order. At the first line that cannot be held it stops taking, and
   * reports every line that is short now, so the caller learns everything it must change at once.
   */
  private async holdAll(doc: ReservationDocument): Promise<OutOfStockLine[]> {
    const short: OutOfStockLine[] = [];
    for (const { itemId, quantity } of doc.lines) {
      if (short.length === 0 && (await this.applyStep(itemId, doc._id, quantity, 'hold'))) continue;
      // Not held now: already held by an earlier attempt, or short.
      const item = await this.items.collection.findOne({ _id: itemId });
      if (item?.holds?.[doc._id] || item?.steps?.[doc._id] === 'hold') continue;
      if (short.length > 0 && (item?.available ?? 0) >= quantity) continue;
      short.push({ itemId, requested: quantity, available: item?.available ?? 0 });
    }
    return short;
  }

  /** Answers Reserve from a reservation past `pending`. */
  private answerReserve(doc: ReservationDocument): ReservationView {
    reserveAnswer(doc._id, facts(doc));
    return view(doc);
  }

  /** Finishes a decided reservation's steps if its process stopped; else leaves them to it. */
  private async finishIfStuck(doc: ReservationDocument): Promise<ReservationDocument> {
    const taken = await this.takeOver(doc);
    return taken ? this.settle(taken) : doc;
  }

  /**
   * Claims a reservation whose steps have not moved for `stuckAfterMs`, by moving its
   * `updatedAt` on: of several callers that found it stuck, one gets it. Undefined otherwise.
   */
  private async takeOver(doc: ReservationDocument): Promise<ReservationDocument | undefined> {
    if (Date.now() - doc.updatedAt.getTime() < this.stuckAfterMs) return undefined;
    const taken = await this.reservations.findOneAndUpdate(
      { _id: doc._id, v: doc.v },
      { $set: { updatedAt: new Date() } },
    );
    return taken ?? undefined;
  }

  /**
   * Carries out the steps of the reservation's current phase on every line, moves it to the state
   * after the phase, and removes the marks of the steps it is now past. Returns the reservation
   * after. A `hold` phase (reserved) only removes the hold marks.
   */
  private async settle(doc: ReservationDocument): Promise<ReservationDocument> {
    const phase = phaseOf(doc);
    if (!phase) return doc;
    for (const line of doc.lines) {
      if (phase.step) await this.applyStep(line.itemId, doc._id, line.quantity, phase.step, phase.onlyFrom);
    }
    let after = doc;
    if (phase.step) {
      after =
        (await this.reservations.findOneAndUpdate(
          { _id: doc._id, status: doc.status },
          { $set: { status: phase.final, updatedAt: new Date() } },
        )) ?? (await this.mustFind(doc._id));
    }
    if (phase.unmark === 'hold') this.spendHolds(doc);
    else for (const line of doc.lines) await this.unmark(line.itemId, doc._id, phase.unmark);
    return after;
  }

  /** The reservation holds every line: its hold marks go with each item's next hold. */
  private spendHolds(doc: ReservationDocument): void {
    const dueAt = Date.now() + this.spentHoldFlushMs;
    for (const { itemId } of doc.lines) this.markSpent(itemId, [doc._id], dueAt);
    this.armSpentHoldsTimer();
  }

  /**
   * One write per item with a mark that has waited its time, taking the item's other marks with
   * it; an item none of whose marks is due yet is left to its next hold. (One timer for every item
   * would have written each item's marks when the first item's time was up, however recent they
   * were.)
   */
  private async flushSpentHoldsDueBy(now: number): Promise<void> {
    // What is written leaves the map first, as the outbox relay's removals do, so the timer set
    // again here is for what still waits, never for the writes under way.
    const due: { itemId: string; reservationIds: string[] }[] = [];
    for (const [itemId, spent] of this.spentHolds) {
      if (Math.min(...spent.values()) > now) continue;
      due.push({ itemId, reservationIds: [...spent.keys()] });
      this.spentHolds.delete(itemId);
    }
    clearTimeout(this.spentHoldsTimer);
    this.spentHoldsTimer = undefined;
    this.armSpentHoldsTimer();
    for (const [index, { itemId, reservationIds }] of due.entries()) {
      try {
        await this.items.updateOne({ _id: itemId }, { $unset: holdMarks(reservationIds) });
      } catch (error) {
        // The database is away: what was not written waits another round (the sweeper leaves
        // this process's marks to it).
        const retryAt = Date.now() + this.spentHoldFlushMs;
        for (const unwritten of due.slice(index))
          this.markSpent(unwritten.itemId, unwritten.reservationIds, retryAt);
        this.armSpentHoldsTimer();
        throw error;
      }
    }
  }

  /** Notes spent hold marks of an item, to be written away by `dueAt` if no hold takes them first. */
  private markSpent(itemId: string, reservationIds: readonly string[], dueAt: number): void {
    const spent = this.spentHolds.get(itemId) ?? new Map<string, number>();
    for (const reservationId of reservationIds) spent.set(reservationId, dueAt);
    this.spentHolds.set(itemId, spent);
  }

  /** One timer, for the earliest mark that waits; later ones are seen to when it fires. */
  private armSpentHoldsTimer(): void {
    if (this.spentHoldsTimer || this.spentHolds.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const spent of this.spentHolds.values())
      for (const dueAt of spent.values()) earliest = Math.min(earliest, dueAt);
    this.spentHoldsTimer = setTimeout(
      () => {
        this.spentHoldsTimer = undefined;
        // A failed round has set itself up again.
        this.flushSpentHoldsDueBy(Date.now()).catch(() => undefined);
      },
      Math.max(0, earliest - Date.now()),
    ).unref();
  }

  /**
   * Takes the item's spent marks (but `reservationId`'s own) for one hold to carry. Each goes with
   * one write only: concurrent holds of the same item would otherwise all carry the same marks
   * (under 64 connections of create-order, each hold carried 30-45 of them).
   */
  private takeSpentHolds(itemId: string, reservationId: string): Map<string, number> {
    const taken = new Map<string, number>();
    const spent = this.spentHolds.get(itemId);
    if (!spent) return taken;
    for (const [id, dueAt] of spent) if (id !== reservationId) taken.set(id, dueAt);
    for (const id of taken.keys()) spent.delete(id);
    if (spent.size === 0) this.spentHolds.delete(itemId);
    return taken;
  }

  /** Marks a hold carried but did not write away wait again, each with its own time. */
  private returnSpentHolds(itemId: string, taken: ReadonlyMap<string, number>): void {
    for (const [id, dueAt] of taken) this.markSpent(itemId, [id], dueAt);
    this.armSpentHoldsTimer();
  }

  /**
   * One step on one item, at most once: conditional on the item not being marked with this step
   * (and, for `onlyFrom`, on it being marked with that one), and on enough stock for a hold.
   */
  private async applyStep(
    itemId: string,
    reservationId: string,
    quantity: number,
    step: Step,
    onlyFrom?: Step,
  ): Promise<boolean> {
    const now = new Date();
    const $inc = STEP_CHANGES[step](quantity);
    if (step === 'hold') {
      // The item's spent hold marks go with this write (they are not this reservation's).
      const spent = this.takeSpentHolds(itemId, reservationId);
      let held = false;
      try {
        const written = await this.items.updateOne(
          {
            _id: itemId,
            available: { $gte: quantity },
            [holdPath(reservationId)]: { $exists: false },
            [stepPath(reservationId)]: { $exists: false },
          },
          {
            $inc,
            $set: { [holdPath(reservationId)]: now, updatedAt: now },
            ...(spent.size > 0 ? { $unset: holdMarks([...spent.keys()]) } : {}),
          },
        );
        held = written.modifiedCount === 1;
      } finally {
        if (!held && spent.size > 0) this.returnSpentHolds(itemId, spent);
      }
      return held;
    }
    const mark = stepPath(reservationId);
    // From a hold: the hold mark goes in the same write, so the give-back happens once.
    const filter: Filter<ItemDocument> =
      onlyFrom === 'hold'
        ? { _id: itemId, [holdPath(reservationId)]: { $exists: true }, [mark]: { $ne: step } }
        : { _id: itemId, [mark]: onlyFrom ?? { $ne: step } };
    const applied = await this.items.updateOne(filter, {
      $inc,
      $set: { [mark]: step, updatedAt: now },
      ...(onlyFrom === 'hold' ? { $unset: holdMarks([reservationId]) } : {}),
    });
    return applied.modifiedCount === 1;
  }

  /** Removes a step's mark from an item; 1 when there was one. */
  private async unmark(itemId: string, reservationId: string, step: Step): Promise<number> {
    const [mark, is] =
      step === 'hold' ? [holdPath(reservationId), { $exists: true }] : [stepPath(reservationId), step];
    const removed = await this.items.updateOne({ _id: itemId, [mark]: is }, { $unset: { [mark]: '' } });
    return removed.modifiedCount;
  }

  /** Moves a reservation on from one of `from`; null when it was not in any of them any more. */
  private decide(
    id: string,
    from: ReservationState[],
    set: Partial<Pick<ReservationDocument, 'status' | 'endsAs' | 'shortLines' | 'heldAll'>>,
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

const holdMarks = (reservationIds: readonly string[]): Record<string, ''> =>
  Object.fromEntries(reservationIds.map((id) => [holdPath(id), '']));

/**
 * What settling a reservation in its state does: the step on each line (only on lines marked
 * `onlyFrom`, when not every line was held), the state after, and the mark to remove then.
 */
function phaseOf(
  doc: ReservationDocument,
): { step?: Step; onlyFrom?: Step; final: ReservationState; unmark: Step } | undefined {
  switch (doc.status) {
    case 'reserved':
      return { final: 'reserved', unmark: 'hold' };
    case 'committing':
      return { step: 'commit', final: 'committed', unmark: 'commit' };
    case 'releasing':
      return {
        step: 'release',
        onlyFrom: doc.heldAll ? undefined : 'hold',
        final: finalState(facts(doc)),
        unmark: 'release',
      };
    default:
      return undefined;
  }
}
