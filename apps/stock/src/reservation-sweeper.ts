import type { Logger } from '@oms/logging';
import { DueTimer } from '@oms/service-kit';
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
  private readonly timer: DueTimer;
  private stopping = false;

  constructor(
    private readonly store: StockStore,
    private readonly logger: Logger,
    private readonly options: SweeperOptions,
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.timer = new DueTimer(async () => (await this.sweep()).nextSweepMs, {
      minMs: options.intervalMs,
      maxMs: IDLE_SWEEP_MS,
      onError: (error) => logger.warn({ err: error }, 'reservation sweep failed; retrying next round'),
    });
  }

  start(): void {
    this.stopping = false;
    this.timer.start();
  }

  /** A reservation that expires at `at` was made: wake by then if sleeping longer. */
  dueBy(at: Date): void {
    this.timer.dueBy(at);
  }

  /** Stops scheduling and waits for the round under way (called on drain). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.timer.stop();
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
}
