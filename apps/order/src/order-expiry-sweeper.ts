import { OrderStatus, type StockServiceService } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import type { RpcClient } from '@oms/rpc';
import type { OrderStore } from './order-store';

const BATCH = 100;

/**
 * Fails unpaid orders whose reservation lapsed and makes sure every cancelled or failed order's
 * stock is released. Runs on every instance: the compare-and-set transition decides who acts.
 */
export class OrderExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: OrderStore,
    private readonly stock: RpcClient<typeof StockServiceService>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'order sweep failed; retrying next round'),
        )
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(now = new Date()): Promise<void> {
    for (const order of await this.store.findExpired(now, BATCH)) {
      const failed = await this.store.transition(order.id, OrderStatus.ORDER_STATUS_FAILED, {
        reason: 'reservation_expired',
      });
      if (failed) this.logger.info({ 'order.id': order.id }, 'unpaid order expired');
    }
    for (const order of await this.store.findUnreleased(BATCH)) {
      await this.stock.release({ reservationId: order.id });
      await this.store.markStockReleased(order.id);
    }
  }
}
