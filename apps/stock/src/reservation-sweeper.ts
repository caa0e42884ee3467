import type { Logger } from '@oms/logging';
import type { ReservationDocument, StockStore } from './stock-store';

/**
 * The longest sleep while nothing is due: how soon a reservation whose process stopped is
 * finished, or a mark a crash left is settled.
 */
export const RESERVATION_SWEEP_IDLE_MS = 30_000;

export interface SweepResult {
  expired: number;
  resumed: number;
  leftoverHolds: number;
  /** How long to sleep: until the next expiry, at least `intervalMs`, at most RESERVATION_SWEEP_IDLE_MS. */
  nextSweepMs: number;
}

export interface SweeperOptions {
  intervalMs: number;
  batchSize?: number;
}

/**
 * Expires lapsed reservations (a TTL index would drop the record without giving the holds back),
 * finishes endings a crashed process left half-done, and settles step marks a crashed process
 * left on items. Runs on every instance: a reservation's ending is decided by one conditional
 * update, so two sweepers, or a sweeper and a Commit, never both win; each step on an item is
 * conditional on its mark.
 */
export class ReservationSweeper {
  private readonly batchSize: number;

  constructor(
    private readonly store: StockStore,
    private readonly logger: Logger,
    private readonly options: SweeperOptions,
  ) {
    this.batchSize = options.batchSize ?? 100;
  }

  /** One round; every database call yields, so the event loop keeps serving RPCs meanwhile. */
  async sweep(now = new Date(), stopping?: AbortSignal): Promise<SweepResult> {
    let expired = 0;
    let resumed = 0;
    let failed = 0;
    const settleEach = async (
      docs: ReservationDocument[],
      settle: (doc: ReservationDocument) => Promise<unknown>,
    ) => {
      for (const doc of docs) {
        if (stopping?.aborted) break; // draining: the rest waits for another instance or the next start
        try {
          await settle(doc);
        } catch (error) {
          // One bad reservation must not stop the others; it is retried next round.
          failed++;
          this.logger.warn(
            { err: error, 'order.id': doc._id },
            'could not settle reservation; retrying next round',
          );
        }
      }
    };
    const due = await this.store.findExpired(now, this.batchSize);
    await settleEach(due.expired, async (doc) => {
      const result = await this.store.expire(doc);
      if (result.state === 'expired') expired++;
      this.logger.info({ 'order.id': doc._id, state: result.state }, 'lapsed reservation settled');
    });
    const stuck = await this.store.findStuck(now, this.batchSize);
    await settleEach(stuck, async (doc) => {
      await this.store.resume(doc);
      resumed++;
      this.logger.info({ 'order.id': doc._id }, 'stuck reservation settled');
    });
    const leftoverHolds = stopping?.aborted ? 0 : await this.store.settleLeftoverMarks();
    if (leftoverHolds > 0) this.logger.warn({ units: leftoverHolds }, 'leftover holds given back');
    const busy = due.expired.length > 0 || stuck.length > 0 || failed > 0;
    const untilNext = due.nextExpiry ? due.nextExpiry.getTime() - Date.now() : RESERVATION_SWEEP_IDLE_MS;
    const nextSweepMs = busy
      ? this.options.intervalMs
      : Math.min(RESERVATION_SWEEP_IDLE_MS, Math.max(this.options.intervalMs, untilNext));
    return { expired, resumed, leftoverHolds, nextSweepMs };
  }
}
