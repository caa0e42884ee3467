import { trace } from '@opentelemetry/api';
import type { Logger } from '@oms/logging';
import { withCapturedTraceContext } from '@oms/messaging';
import { ORDER_ID_ATTRIBUTE } from '@oms/telemetry';
import type { TicketDocument, TicketStore } from './ticket-store';

const tracer = trace.getTracer('kitchen');

/** How long after its preparation should end a ticket's cook is presumed gone. */
const LEASE_GRACE_MS = 5000;

/**
 * The kitchen: prepares at most `concurrency` tickets at once, each for `prepMs` (simulated). The
 * lease on each ticket lets any instance resume one whose cook stopped.
 */
export class KitchenLine {
  private readonly cooking = new Map<string, NodeJS.Timeout>();
  private timer?: NodeJS.Timeout;
  private filling?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly store: TicketStore,
    private readonly cook: string,
    private readonly logger: Logger,
    private readonly options: { concurrency: number; prepMs: number; pollMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.kick();
  }

  /** Looks for work now (called when a ticket arrives) instead of waiting for the next poll. */
  kick(): void {
    if (this.stopped) return;
    this.filling ??= this.fill()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'kitchen could not take tickets; retrying'))
      .finally(() => (this.filling = undefined));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.filling;
    for (const timer of this.cooking.values()) clearTimeout(timer);
    this.cooking.clear();
    await this.store.releaseLeases(this.cook);
  }

  private async fill(): Promise<void> {
    const leaseMs = this.options.prepMs + LEASE_GRACE_MS;
    while (!this.stopped && this.cooking.size < this.options.concurrency) {
      const ticket =
        (await this.store.claimAbandoned(this.cook, leaseMs)) ??
        (await this.store.claimQueued(this.cook, leaseMs));
      if (!ticket) return;
      this.prepare(ticket);
    }
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
