import { trace } from '@opentelemetry/api';
import type { Logger } from '@oms/logging';
import { withCapturedTraceContext } from '@oms/telemetry';
import { ORDER_ID_ATTRIBUTE } from '@oms/telemetry';
import type { TicketDocument, TicketStore } from './ticket-store';

const tracer = trace.getTracer('kitchen');

/** How long after its preparation should end a ticket's cook is presumed gone. */
const LEASE_GRACE_MS = 5000;
/** The longest pause of the safety-net poll while it finds nothing. */
export const KITCHEN_IDLE_POLL_MS = 15_000;

/**
 * The kitchen: prepares at most `concurrency` tickets at once, each for `prepMs` (simulated). The
 * lease on each ticket lets any instance resume one whose cook stopped. A ticket that arrives, or
 * a place freed on the line, wakes the poll at once; otherwise the poll is only the safety net
 * (tickets of other instances' events, leases that lapsed) and doubles its pause while it finds
 * nothing, up to KITCHEN_IDLE_POLL_MS.
 */
export class KitchenLine {
  private readonly cooking = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private pauseMs: number;

  constructor(
    private readonly store: TicketStore,
    private readonly cook: string,
    private readonly logger: Logger,
    private readonly options: { concurrency: number; prepMs: number; pollMs: number },
    private readonly polls: { wake(): void },
  ) {
    this.pauseMs = options.pollMs;
  }

  /** Looks for work now instead of waiting for the next poll. */
  kick(): void {
    this.pauseMs = this.options.pollMs;
    this.polls.wake();
  }

  /** One poll: fills the line; returns how long to pause before the next. */
  async poll(stopping?: AbortSignal): Promise<number> {
    const claimed = await this.fill(stopping);
    this.pauseMs = claimed > 0 ? this.options.pollMs : Math.min(this.pauseMs * 2, KITCHEN_IDLE_POLL_MS);
    return this.pauseMs;
  }

  /** Stops cooking (the poll has stopped) and hands this cook's tickets to other instances. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.cooking.values()) clearTimeout(timer);
    this.cooking.clear();
    await this.store.releaseLeases(this.cook);
  }

  /** Claims tickets while there is room on the line; returns how many. */
  private async fill(stopping?: AbortSignal): Promise<number> {
    const leaseMs = this.options.prepMs + LEASE_GRACE_MS;
    let claimed = 0;
    while (!this.stopped && !stopping?.aborted && this.cooking.size < this.options.concurrency) {
      const ticket =
        (await this.store.claimAbandoned(this.cook, leaseMs)) ??
        (await this.store.claimQueued(this.cook, leaseMs));
      if (!ticket) break;
      this.prepare(ticket);
      claimed++;
    }
    return claimed;
  }

  private prepare(ticket: TicketDocument): void {
    // A resumed ticket only cooks for the time it had left.
    const elapsed = ticket.startedAt ? Date.now() - ticket.startedAt.getTime() : 0;
    const remaining = Math.max(0, this.options.prepMs - elapsed);
    const timer = setTimeout(() => {
      void withCapturedTraceContext(ticket.traceContext, () =>
        tracer.startActiveSpan(
          'kitchen ticket ready',
          { attributes: { [ORDER_ID_ATTRIBUTE]: ticket.orderId } },
          async (span) => {
            try {
              if (await this.store.markReady(ticket, this.cook))
                this.logger.info({ 'order.id': ticket.orderId }, 'ticket ready');
            } catch (error) {
              this.logger.warn(
                { err: error, 'order.id': ticket.orderId },
                'could not mark ticket ready; its lease will lapse and it resumes',
              );
            } finally {
              span.end();
              this.cooking.delete(ticket._id);
              this.kick();
            }
          },
        ),
      );
    }, remaining);
    this.cooking.set(ticket._id, timer);
  }
}
