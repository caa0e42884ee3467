import type { Logger } from '@oms/logging';
import type { ReservationDocument, StockStore } from './stock-store';

/**
 * The longest sleep while nothing is due: how soon a reservation whose process stopped is
 * finished, or a mark a crash left is settled.
 */
const IDLE_SWEEP_MS = 30_000;

export interface SweepResult {
  expired: number;
  resumed: number;
  leftoverHolds: number;
  /** How long to sleep: until the next expiry, at least `intervalMs`, at most IDLE_SWEEP_MS. */
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;
  /** When the sleeping sweeper wakes next. */
  private wakeAt = Infinity;
  /** The earliest expiry announced while a round ran (the round may have looked before it). */
  private dueDuringRound = Infinity;

  constructor(
    private readonly store: StockStore,
    private readonly logger: Logger,
    private readonly options: SweeperOptions,
  ) {
    this.batchSize = options.batchSize ?? 100;
  }

  start(): void {
    this.stopping = false;
    this.schedule();
  }

  /** A reservation that expires at `at` was made: wake by then if sleeping longer. */
  dueBy(at: Date): void {
    if (this.running) {
      this.dueDuringRound = Math.min(this.dueDuringRound, at.getTime());
      return;
    }
    if (at.getTime() >= this.wakeAt) return;
    clearTimeout(this.timer);
    this.schedule(Math.max(this.options.intervalMs, at.getTime() - Date.now()));
  }

  /** Stops scheduling and waits for the round under way (called on drain). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round; every database call yields, so the event loop keeps serving RPCs meanwhile. */
  async sweep(now = new Date()): Promise<SweepResult> {
    let expired = 0;
    let resumed = 0;
    let failed = 0;
    const settleEach = async (
      docs: ReservationDocument[],
      settle: (doc: ReservationDocument) => Promise<unknown>,
    ) => {
      for (const doc of docs) {
        if (this.stopping) break; // draining: the rest waits for another instance or the next start
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
    const leftoverHolds = this.stopping ? 0 : await this.store.settleLeftoverMarks();
    if (leftoverHolds > 0) this.logger.warn({ units: leftoverHolds }, 'leftover holds given back');
    const busy = due.expired.length > 0 || stuck.length > 0 || failed > 0;
    const untilNext = due.nextExpiry ? due.nextExpiry.getTime() - Date.now() : IDLE_SWEEP_MS;
    const nextSweepMs = busy
      ? this.options.intervalMs
      : Math.min(IDLE_SWEEP_MS, Math.max(this.options.intervalMs, untilNext));
    return { expired, resumed, leftoverHolds, nextSweepMs };
  }

  /** A chain of timeouts, not an interval: rounds never overlap, however long one takes. */
  private schedule(delayMs = this.options.intervalMs): void {
    if (this.stopping) return;
    delayMs = Math.min(delayMs, Math.max(this.options.intervalMs, this.dueDuringRound - Date.now()));
    this.dueDuringRound = Infinity;
    this.wakeAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.running = this.sweep()
        .then((result) => result.nextSweepMs)
        .catch((error: unknown) => {
          this.logger.warn({ err: error }, 'reservation sweep failed; retrying next round');
          return this.options.intervalMs;
        })
        .then((next) => {
          this.running = undefined;
          this.schedule(next);
        });
    }, delayMs);
  }
}
