import { OrderStatus, type StockServiceService } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import type { RpcClient } from '@oms/rpc';
import type { OrderStore } from './order-store';

const BATCH = 100;
/** The longest sleep while nothing is due: how soon a release that failed is tried again. */
const IDLE_SWEEP_MS = 30_000;

/**
 * Fails unpaid orders whose reservation lapsed and makes sure every cancelled or failed order's
 * stock is released. Runs on every instance: the conditional transition decides who acts. It
 * sleeps until the next order is due (at least `intervalMs`, at most IDLE_SWEEP_MS), so an idle
 * system is not asked every second about orders that lapse in a quarter of an hour.
 */
export class OrderExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** When the sleeping sweeper wakes next. */
  private wakeAt = Infinity;
  /** The earliest expiry announced while a round ran (the round may have looked before it). */
  private dueDuringRound = Infinity;

  constructor(
    private readonly store: OrderStore,
    private readonly stock: RpcClient<typeof StockServiceService>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  /** An order that lapses at `at` was created: wake by then if sleeping longer. */
  dueBy(at: Date): void {
    if (this.running) {
      this.dueDuringRound = Math.min(this.dueDuringRound, at.getTime());
      return;
    }
    if (at.getTime() >= this.wakeAt) return;
    clearTimeout(this.timer);
    this.schedule(Math.max(this.intervalMs, at.getTime() - Date.now()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round; returns how long to sleep before the next. */
  async sweep(now = new Date()): Promise<number> {
    const { expired, nextExpiry } = await this.store.findExpired(now, BATCH);
    for (const order of expired) {
      const failed = await this.store.transition(order.id, OrderStatus.ORDER_STATUS_FAILED, {
        reason: 'reservation_expired',
      });
      if (failed) this.logger.info({ 'order.id': order.id }, 'unpaid order expired');
    }
    const unreleased = await this.store.findUnreleased(BATCH);
    for (const order of unreleased) {
      await this.stock.release({ reservationId: order.id });
      await this.store.markStockReleased(order.id);
    }
    if (expired.length > 0 || unreleased.length > 0) return this.intervalMs;
    const untilNext = nextExpiry ? nextExpiry.getTime() - Date.now() : IDLE_SWEEP_MS;
    return Math.min(IDLE_SWEEP_MS, Math.max(this.intervalMs, untilNext));
  }

  /** A chain of timeouts, not an interval: rounds never overlap, however long one takes. */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    delayMs = Math.min(delayMs, Math.max(this.intervalMs, this.dueDuringRound - Date.now()));
    this.dueDuringRound = Infinity;
    this.wakeAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.running = this.sweep()
        .catch((error: unknown) => {
          this.logger.warn({ err: error }, 'order sweep failed; retrying next round');
          return this.intervalMs;
        })
        .then((next) => {
          this.running = undefined;
          this.schedule(next);
        });
    }, delayMs);
  }
}
