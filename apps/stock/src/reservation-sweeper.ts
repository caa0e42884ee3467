import type { Logger } from '@oms/logging';
import type { ReservationDocument, StockStore } from './stock-store';

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

  /** Stops scheduling and waits for the round under way (called on drain). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round; every database call yields, so the event loop keeps serving RPCs meanwhile. */
  async sweep(now = new Date()): Promise<{ expired: number; resumed: number; leftoverHolds: number }> {
    let expired = 0;
    let resumed = 0;
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
          this.logger.warn(
            { err: error, 'order.id': doc._id },
            'could not settle reservation; retrying next round',
          );
        }
      }
    };
    await settleEach(await this.store.findExpired(now, this.batchSize), async (doc) => {
      const result = await this.store.expire(doc);
      if (result.state === 'expired') expired++;
      this.logger.info({ 'order.id': doc._id, state: result.state }, 'lapsed reservation settled');
    });
    await settleEach(await this.store.findStuck(now, this.batchSize), async (doc) => {
      await this.store.resume(doc);
      resumed++;
      this.logger.info({ 'order.id': doc._id }, 'stuck reservation settled');
    });
    const leftoverHolds = this.stopping ? 0 : await this.store.settleLeftoverMarks();
    if (leftoverHolds > 0) this.logger.warn({ units: leftoverHolds }, 'leftover holds given back');
    return { expired, resumed, leftoverHolds };
  }

  /** A chain of timeouts, not an interval: rounds never overlap, however long one takes. */
  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'reservation sweep failed; retrying next round'),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
  }
}
