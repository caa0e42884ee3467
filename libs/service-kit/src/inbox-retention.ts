import type { Logger } from '@oms/logging';
import { DueTimer } from './due-timer';

/** What retention needs of an inbox (an Inbox is one). */
export interface ForgettingInbox {
  forgetAppliedBefore(cutoff: Date): Promise<number>;
}

/**
 * The service's inboxes, opened once per consumer, and the job that keeps them from growing
 * forever: every `intervalMs` each forgets the events it applied more than `retentionMs` ago.
 * The retention must outlast any redelivery, including a dead letter replayed by hand.
 */
export class InboxRetention<I extends ForgettingInbox> {
  private readonly inboxes = new Map<string, Promise<I>>();
  private readonly timer: DueTimer;
  private started = false;

  constructor(
    private readonly open: (consumer: string) => Promise<I>,
    private readonly options: { retentionMs: number; intervalMs: number; logger: Logger },
  ) {
    this.timer = new DueTimer(() => this.forgetOld(), {
      minMs: options.intervalMs,
      maxMs: options.intervalMs,
      onError: (error) => options.logger.warn({ err: error }, 'inbox cleanup failed; retrying later'),
    });
  }

  /** The consumer's inbox; the first one opened starts the cleanup. */
  inbox(consumer: string): Promise<I> {
    let inbox = this.inboxes.get(consumer);
    if (!inbox) {
      inbox = this.open(consumer).catch((error: unknown) => {
        this.inboxes.delete(consumer); // the database was away: the next delivery opens it again
        throw error;
      });
      this.inboxes.set(consumer, inbox);
      if (!this.started) {
        this.started = true;
        this.timer.start();
      }
    }
    return inbox;
  }

  /** One round; returns how long to sleep before the next. */
  async forgetOld(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.options.retentionMs);
    let forgotten = 0;
    for (const inbox of this.inboxes.values()) forgotten += await (await inbox).forgetAppliedBefore(cutoff);
    if (forgotten > 0) this.options.logger.info({ forgotten, cutoff }, 'forgot old inbox records');
    return this.options.intervalMs;
  }

  stop(): Promise<void> {
    return this.timer.stop();
  }
}
