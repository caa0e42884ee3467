import { OrderStatus } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import type { OrderDomain } from './order-domain';
import type { OrderStore } from './order-store';

const BATCH = 100;
/** The longest sleep while nothing is due: how soon a release that failed is tried again. */
export const ORDER_SWEEP_IDLE_MS = 30_000;

/**
 * Fails unpaid orders whose reservation lapsed (or finishes the payment one was claimed for) and
 * makes sure every cancelled or failed order's stock is released. Runs on every instance: the conditional transition decides who acts. Each
 * round says when the next order is due (at least `intervalMs`, at most ORDER_SWEEP_IDLE_MS), so an
 * idle system is not asked every second about orders that lapse in a quarter of an hour.
 */
export class OrderExpirySweeper {
  constructor(
    private readonly store: OrderStore,
    private readonly domain: Pick<OrderDomain, 'expire' | 'releaseStock'>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** One round; returns how long to sleep before the next. */
  async sweep(now = new Date()): Promise<number> {
    const { expired, nextExpiry } = await this.store.findExpired(now, BATCH);
    for (const order of expired) {
      const after = await this.domain.expire(order.id);
      if (after?.status === OrderStatus.ORDER_STATUS_FAILED)
        this.logger.info({ 'order.id': order.id }, 'unpaid order expired');
    }
    // Ended orders whose release failed before (stock was unreachable): try again.
    const unreleased = await this.store.findUnreleased(BATCH);
    for (const order of unreleased) await this.domain.releaseStock(order.id);
    if (expired.length > 0 || unreleased.length > 0) return this.intervalMs;
    return nextExpiry ? nextExpiry.getTime() - Date.now() : ORDER_SWEEP_IDLE_MS;
  }
}
