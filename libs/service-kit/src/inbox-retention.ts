import type { Logger } from '@oms/logging';

/** What retention needs of an inbox (an Inbox is one). */
export interface ForgettingInbox {
  forgetAppliedBefore(cutoff: Date): Promise<number>;
}

/**
 * The service's inboxes, opened once per consumer, and the round that keeps them from growing
 * forever: each forgets the events it applied more than `retentionMs` ago. The retention must
 * outlast any redelivery, including a dead letter replayed by hand.
 */
export class InboxRetention<I extends ForgettingInbox> {
  private readonly inboxes = new Map<string, Promise<I>>();
  private scheduled = false;

  constructor(
    private readonly open: (consumer: string) => Promise<I>,
    private readonly options: {
      retentionMs: number;
      logger: Logger;
      /** Starts the periodic `forgetOld` round; called when the first inbox opens. */
      scheduleCleanup: (round: () => Promise<void>) => void;
    },
  ) {}

  /** The consumer's inbox; the first one opened schedules the cleanup. */
  inbox(consumer: string): Promise<I> {
    let inbox = this.inboxes.get(consumer);
    if (!inbox) {
      inbox = this.open(consumer).catch((error: unknown) => {
        this.inboxes.delete(consumer); // the database was away: the next delivery opens it again
        throw error;
      });
      this.inboxes.set(consumer, inbox);
      if (!this.scheduled) {
        this.scheduled = true;
        this.options.scheduleCleanup(() => this.forgetOld());
      }
    }
    return inbox;
  }

  async forgetOld(now = Date.now()): Promise<void> {
    const cutoff = new Date(now - this.options.retentionMs);
    let forgotten = 0;
    for (const inbox of this.inboxes.values()) forgotten += await (await inbox).forgetAppliedBefore(cutoff);
    if (forgotten > 0) this.options.logger.info({ forgotten, cutoff }, 'forgot old inbox records');
  }
}
