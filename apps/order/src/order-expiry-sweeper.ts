import { OrderStatus } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import { DueTimer } from '@oms/service-kit';
import type { OrderDomain } from './order-domain';
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
  private readonly timer: DueTimer;

  constructor(
    private readonly store: OrderStore,
    private readonly domain: Pick<OrderDomain, 'advance' | 'releaseStock'>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {
    this.timer = new DueTimer(() => this.sweep(), {
      minMs: intervalMs,
      maxMs: IDLE_SWEEP_MS,
      onError: (error) => logger.warn({ err: error }, 'order sweep failed; retrying next round'),
    });
  }

  start(): void {
    this.timer.start();
  }

  /** An order that lapses at `at` was created: wake by then if sleeping longer. */
  dueBy(at: Date): void {
    this.timer.dueBy(at);
  }

  stop(): Promise<void> {
    return this.timer.stop();
  }

  /** One round; returns how long to sleep before the next. */
  async sweep(now = new Date()): Promise<number> {
    const { expired, nextExpiry } = await this.store.findExpired(now, BATCH);
    for (const order of expired) {
      const after = await this.domain.advance(order.id, OrderStatus.ORDER_STATUS_FAILED, {
        reason: 'reservation_expired',
      });
      if (after?.status === OrderStatus.ORDER_STATUS_FAILED)
        this.logger.info({ 'order.id': order.id }, 'unpaid order expired');
    }
    // Ended orders whose release failed before (stock was unreachable): try again.
    const unreleased = await this.store.findUnreleased(BATCH);
    for (const order of unreleased) await this.domain.releaseStock(order.id);
    if (expired.length > 0 || unreleased.length > 0) return this.intervalMs;
    return nextExpiry ? nextExpiry.getTime() - Date.now() : IDLE_SWEEP_MS;
  }
}
