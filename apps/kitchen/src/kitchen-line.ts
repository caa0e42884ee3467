import { trace } from '@opentelemetry/api';
import type { Logger } from '@oms/logging';
import { withCapturedTraceContext } from '@oms/messaging';
import { ORDER_ID_ATTRIBUTE } from '@oms/telemetry';
import type { TicketDocument, TicketStore } from './ticket-store';

const tracer = trace.getTracer('kitchen');

/** How long after its preparation should end a ticket's cook is presumed gone. */
const LEASE_GRACE_MS = 5000;
/** The longest pause of the safety-net poll while it finds nothing. */
const IDLE_POLL_MS = 15_000;

/**
 * The kitchen: prepares at most `concurrency` tickets at once, each for `prepMs` (simulated). The
 * lease on each ticket lets any instance resume one whose cook stopped.
 */
export class KitchenLine {
  private readonly cooking = new Map<string, NodeJS.Timeout>();
  private timer?: NodeJS.Timeout;
  private filling?: Promise<void>;
  private stopped = false;
  private pauseMs: number;
  private kickedDuringFill = false;

  constructor(
    private readonly store: TicketStore,
    private readonly cook: string,
    private readonly logger: Logger,
    private readonly options: { concurrency: number; prepMs: number; pollMs: number },
  ) {
    this.pauseMs = options.pollMs;
  }

  start(): void {
    this.kick();
  }

  /**
   * Looks for work now (called when a ticket arrives) instead of waiting for the next poll. The
   * poll is only the safety net (tickets of other instances' events, leases that lapsed): it
   * doubles its pause while it finds nothing, up to IDLE_POLL_MS.
   */
  kick(): void {
    this.pauseMs = this.options.pollMs;
    if (this.filling) this.kickedDuringFill = true;
    else this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    this.filling ??= this.fill()
      .then((claimed) => {
        this.pauseMs = claimed > 0 ? this.options.pollMs : Math.min(this.pauseMs * 2, IDLE_POLL_MS);
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'kitchen could not take tickets; retrying'))
      .finally(() => {
        this.filling = undefined;
        // A ticket that arrived while this pass ran may have been missed by it: look again.
        if (this.kickedDuringFill) {
          this.kickedDuringFill = false;
          this.kick();
        } else this.schedulePoll();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.filling;
    for (const timer of this.cooking.values()) clearTimeout(timer);
    this.cooking.clear();
    await this.store.releaseLeases(this.cook);
  }

  private schedulePoll(): void {
    clearTimeout(this.timer);
    if (!this.stopped)
      this.timer = setTimeout(() => this.poll(), Math.max(this.options.pollMs, this.pauseMs));
  }

  /** Claims tickets while there is room on the line; returns how many. */
  private async fill(): Promise<number> {
    const leaseMs = this.options.prepMs + LEASE_GRACE_MS;
    let claimed = 0;
    while (!this.stopped && this.cooking.size < this.options.concurrency) {
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
