import { setTimeout as delay } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from '@oms/persistence';
import { inboundDeadline, RpcError } from '@oms/rpc';
import type { Hold, ItemState, StepResult } from './reservation-rules';

/**
 * One version of an item's stock. Versions are only ever inserted, under the unique `_id`
 * `<itemId>@<version>`: whoever inserts version n+1 first is the one writer that moved the item
 * on from version n, everyone else gets a duplicate key and retries on the new state.
 */
export interface ItemVersionDocument {
  _id: string;
  itemId: string;
  version: number;
  available: number;
  committed: number;
  /** Dropped from a version once a newer one exists (to save space); the newest always has it. */
  holds?: Hold[];
  /** What made this version (several changes when they were written together): an audit trail. */
  changes: ChangeNote[];
  at: Date;
}

/** The newest state known of an item: a cache for reads and a starting point to find the newest version. */
export interface ItemDocument {
  _id: string;
  version: number;
  available: number;
  committed: number;
  holds: Hold[];
  updatedAt: Date;
}

export interface ChangeNote {
  kind: 'hold' | 'release' | 'commit' | 'set' | 'ensure';
  reservationId?: string;
}

interface PendingChange {
  step: (state: ItemState | undefined) => StepResult;
  change: ChangeNote;
  deadline: number;
  resolve: (outcome: { result: StepResult; item: ItemVersion | undefined }) => void;
  reject: (error: unknown) => void;
}

export interface ItemVersion {
  itemId: string;
  version: number;
  state: ItemState;
}

const versionId = (itemId: string, version: number) => `${itemId}@${version}`;
const newer = (a: ItemVersion | undefined, b: ItemVersion | undefined) =>
  (b?.version ?? 0) > (a?.version ?? 0) ? b : a;

/**
 * Each item's stock as a chain of immutable versions, changed by compare-and-set through a unique
 * insert. Why not a conditional `updateOne`: FerretDB v1 evaluates an update's filter on a read
 * and then overwrites the document by `_id` (no compare-and-set in between), so two concurrent
 * `updateOne({available: {$gte: 1}}, {$inc: {available: -1}})` both succeed and one decrement is
 * lost; a unique index violation is the one check it enforces atomically (SQLite/PostgreSQL do).
 * On MongoDB the same code is equally correct.
 */
export class ItemLedger {
  /** The newest version this process has seen of each item: saves reading the cache document. */
  private readonly seen = new Map<string, ItemVersion>();
  /** Changes waiting for the write of their item under way in this process. */
  private readonly waiting = new Map<string, PendingChange[]>();

  constructor(
    private readonly versions: Collection<ItemVersionDocument>,
    private readonly items: Collection<ItemDocument>,
    private readonly contentionBudgetMs: number,
  ) {}

  /** The newest version of an item, or undefined when it has no stock record. */
  async current(itemId: string): Promise<ItemVersion | undefined> {
    const cached = this.seen.get(itemId);
    let latest = cached ?? (await this.readCache(itemId));
    let compacted = false;
    for (let probed = 0; ; probed++) {
      const next = await this.versions.findOne({ _id: versionId(itemId, (latest?.version ?? 0) + 1) });
      if (!next) break;
      // Another process moved on; its cache document is usually closer to the end than walking.
      if (probed === 0 && cached) latest = newer(latest, await this.readCache(itemId));
      if (next.version > (latest?.version ?? 0)) {
        latest = fromVersion(next);
        compacted = next.holds === undefined;
      }
    }
    // Compaction only follows a newer version, so the walk always ends on a complete one.
    if (compacted)
      throw new Error(`stock of ${itemId}: newest version ${latest?.version} has lost its holds`);
    if (latest) this.remember(latest);
    return latest;
  }

  /** Several items (unknown ones are left out); no ids means every item. */
  async currentMany(itemIds?: readonly string[]): Promise<ItemVersion[]> {
    const ids =
      itemIds ?? (await this.items.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
    const found = await Promise.all(ids.map((id) => this.current(id)));
    return found.filter((item): item is ItemVersion => item !== undefined);
  }

  /**
   * Applies `step` to the newest state and appends the result as the next version. Changes of one
   * item that arrive while a write of it is under way wait and then go in together, as one version
   * (group commit): a hot item costs one insert per batch, not one per caller, and callers of one
   * process never race each other. When another process wrote first, the batch is decided again on
   * the state it left. Resolves with the step's result and the item's version after it.
   */
  apply(
    itemId: string,
    step: (state: ItemState | undefined) => StepResult,
    change: ChangeNote,
  ): Promise<{ result: StepResult; item: ItemVersion | undefined }> {
    const deadline = Math.min(Date.now() + this.contentionBudgetMs, inboundDeadline()?.getTime() ?? Infinity);
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(itemId);
      const pending: PendingChange = { step, change, deadline, resolve, reject };
      if (queue) return void queue.push(pending);
      this.waiting.set(itemId, [pending]);
      void this.writeQueued(itemId);
    });
  }

  /** Writes batches of an item's waiting changes until none is left. */
  private async writeQueued(itemId: string): Promise<void> {
    for (;;) {
      const batch = this.waiting.get(itemId)?.splice(0) ?? [];
      if (batch.length === 0) {
        this.waiting.delete(itemId);
        return;
      }
      await this.writeBatch(itemId, batch).catch((error: unknown) =>
        batch.forEach((pending) => pending.reject(error)),
      );
    }
  }

  private async writeBatch(itemId: string, batch: PendingChange[]): Promise<void> {
    for (let attempt = 0; batch.length > 0; attempt++) {
      const current = await this.current(itemId);
      // Each step sees the state the steps before it in the batch left.
      let state = current?.state;
      const results: StepResult[] = [];
      const changes: ChangeNote[] = [];
      for (const pending of batch) {
        const result = pending.step(state);
        results.push(result);
        if (result.kind === 'next') {
          state = result.state;
          changes.push(pending.change);
        }
      }
      const next =
        changes.length > 0 && state ? { itemId, version: (current?.version ?? 0) + 1, state } : undefined;
      if (!next || (await this.append(next, changes))) {
        batch.forEach((pending, i) => pending.resolve({ result: results[i]!, item: next ?? current }));
        return;
      }
      const now = Date.now();
      for (const late of batch.filter((pending) => pending.deadline <= now)) {
        late.reject(
          new RpcError(
            status.ABORTED,
            'stock_contention',
            `too many concurrent changes of item ${itemId}; retry`,
          ),
        );
      }
      batch = batch.filter((pending) => pending.deadline > now);
      // Full jitter keeps the processes writing one hot item from colliding again in lockstep.
      await delay(Math.random() * Math.min(50, 2 ** attempt));
    }
  }

  /** True when this process wrote the version; false when another writer took that version number. */
  private async append(next: ItemVersion, changes: ChangeNote[]): Promise<boolean> {
    const { itemId, version, state } = next;
    try {
      await this.versions.insertOne({
        _id: versionId(itemId, version),
        itemId,
        version,
        ...state,
        changes,
        at: new Date(),
      });
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
    this.remember(next);
    // Both are housekeeping on top of the version just written, which alone is the truth: if
    // either fails, readers walk forward from an older cache and the old version keeps its holds.
    await Promise.allSettled([
      this.advanceCache(next),
      version > 1
        ? this.versions.updateOne({ _id: versionId(itemId, version - 1) }, { $unset: { holds: '' } })
        : undefined,
    ]);
    return true;
  }

  private async readCache(itemId: string): Promise<ItemVersion | undefined> {
    const doc = await this.items.findOne({ _id: itemId });
    if (!doc) return undefined;
    return {
      itemId,
      version: doc.version,
      state: { available: doc.available, committed: doc.committed, holds: doc.holds },
    };
  }

  private async advanceCache({ itemId, version, state }: ItemVersion): Promise<void> {
    try {
      await this.items.updateOne(
        { _id: itemId, version: { $lt: version } },
        { $set: { version, ...state, updatedAt: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      // The filter missed because the cache is already newer, and the upsert then hit its _id.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  private remember(item: ItemVersion): void {
    const known = this.seen.get(item.itemId);
    if (!known || known.version < item.version) this.seen.set(item.itemId, item);
  }
}

function fromVersion(doc: ItemVersionDocument): ItemVersion {
  return {
    itemId: doc.itemId,
    version: doc.version,
    state: { available: doc.available, committed: doc.committed, holds: doc.holds ?? [] },
  };
}
