import type { DomainEvent } from '@oms/messaging';
import type { OrderJson } from '../schemas';

/** What the board tells its watchers: an order as it is now, or a kitchen ticket that moved. */
export type BoardUpdate =
  { kind: 'order'; order: OrderJson } | { kind: 'kitchen'; type: string; orderId: string; at: string };

export interface OrderBoardOptions {
  /** The order as the order service has it now; undefined when it does not exist. */
  readOrder(customerId: string, orderId: string): Promise<OrderJson | undefined>;
  /** How many of the latest orders the board keeps. */
  capacity?: number;
  /** Waits between reads of an order the order service has not moved yet (its consumer may lag the event). */
  rereadDelaysMs?: readonly number[];
  onError?: (error: unknown, orderId: string) => void;
  /**
   * Told when the first watcher arrives (true) and when the last one leaves (false): the events
   * the board needs to be fed depend on it (see console-parts.ts).
   */
  onWatchedChange?: (watched: boolean) => void;
}

/** Where each event says the order is going; the order service moves it when it consumes the same event. */
const STATUS_AFTER: Record<string, string> = {
  'order.created': 'pending',
  'payment.session_created': 'awaiting_payment',
  'payment.succeeded': 'paid',
  'order.paid': 'paid',
  'kitchen.ticket_started': 'preparing',
  'kitchen.ticket_ready': 'ready',
  'payment.failed': 'failed',
};

const PROGRESS = ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready'];
const ENDED = new Set(['cancelled', 'failed']);

/** Whether an order in `status` has reached (or gone past, or ended before) `expected`. */
export function hasReached(status: string, expected: string): boolean {
  if (ENDED.has(status)) return true;
  if (ENDED.has(expected)) return false;
  return PROGRESS.indexOf(status) >= PROGRESS.indexOf(expected);
}

const DEFAULT_REREAD_DELAYS_MS = [50, 100, 200, 400, 800, 1600, 3200];

/** How many orders are read at once when the first watcher arrives. */
const CATCH_UP_READS = 8;

/** How many recent event ids are remembered, to take an event that arrives twice only once. */
const SEEN_EVENTS = 1000;

/**
 * The latest orders, as the events tell of them. While someone watches, each event about an order
 * makes the board read that order once the order service has applied it (a few short re-reads at
 * most; events for an order already being read only move the status it waits for), so the board
 * shows the order service's truth, not a guess; nothing polls. While nobody watches it reads
 * nothing, so an unwatched console costs the order service no reads: it only notes which orders
 * moved, and the first watcher's arrival reads those and every order already on the board (the
 * latest `capacity`). Unwatched, it need only be fed the events that name a new or a paid order's
 * customer (order.created, order.paid); that is also how it learns of orders that started before
 * this gateway.
 */
export class OrderBoard {
  private readonly orders = new Map<string, OrderJson>();
  private readonly customers = new Map<string, string>();
  private readonly listeners = new Set<(update: BoardUpdate) => void>();
  private readonly capacity: number;
  private readonly delays: readonly number[];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Orders that moved while nobody watched, with the status the last event named. */
  private readonly unread = new Map<string, string>();
  /** Orders being read now, with the status the read waits for (the latest event's). */
  private readonly reading = new Map<string, string>();
  /** Ids of the latest events taken: a copy may arrive by two watches while they change over. */
  private readonly seen = new Set<string>();
  private closed = false;

  constructor(private readonly options: OrderBoardOptions) {
    this.capacity = options.capacity ?? 200;
    this.delays = options.rereadDelaysMs ?? DEFAULT_REREAD_DELAYS_MS;
  }

  /** The latest orders, most recently changed first. */
  snapshot(): OrderJson[] {
    return [...this.orders.values()].reverse();
  }

  subscribe(listener: (update: BoardUpdate) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      this.options.onWatchedChange?.(true);
      void this.catchUp();
    }
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0 && !this.closed)
        this.options.onWatchedChange?.(false);
    };
  }

  /** Takes one event from the bus (order.*, payment.* and kitchen.* events); a repeat is ignored. */
  onEvent(event: DomainEvent): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    if (this.seen.size > SEEN_EVENTS) this.seen.delete(this.seen.values().next().value as string);
    const data = (event.data ?? {}) as { orderId?: unknown; customerId?: unknown };
    if (typeof data.orderId !== 'string') return;
    const orderId = data.orderId;
    if (typeof data.customerId === 'string') this.remember(orderId, data.customerId);
    if (event.type.startsWith('kitchen.'))
      this.emit({ kind: 'kitchen', type: event.type, orderId, at: event.occurredAt });
    // A paid order gets a queued ticket: the kitchen view wants to know.
    if (event.type === 'order.paid')
      this.emit({ kind: 'kitchen', type: 'kitchen.ticket_queued', orderId, at: event.occurredAt });
    const expected = STATUS_AFTER[event.type];
    if (!expected) return;
    if (this.listeners.size > 0) this.read(orderId, expected);
    else this.keepBounded(this.unread, orderId, expected);
  }

  /** An order the gateway itself just changed or read (a cancel from the console, a customer's list). */
  note(order: OrderJson): void {
    this.remember(order.id, order.customerId);
    const known = this.orders.get(order.id);
    if (known && known.updatedAt > order.updatedAt) return;
    this.store(order);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.listeners.clear();
  }

  /**
   * Reads what moved while nobody watched, and every order on the board (an unwatched board is fed
   * only the events of new and paid orders, so those may have moved since without a word), a few
   * orders at a time, most recent first.
   */
  private async catchUp(): Promise<void> {
    const due = new Map<string, string>();
    for (const [orderId, order] of this.orders) due.set(orderId, order.status);
    for (const [orderId, expected] of this.unread) {
      due.delete(orderId);
      due.set(orderId, expected);
    }
    this.unread.clear();
    const moved = [...due].reverse().slice(0, this.capacity);
    const next = () => moved.shift();
    const worker = async () => {
      for (let entry = next(); entry && !this.closed; entry = next()) await this.read(entry[0], entry[1]);
    };
    await Promise.all(Array.from({ length: CATCH_UP_READS }, worker));
  }

  /** Reads an order until it has reached `expected`; one read loop per order at a time. */
  private read(orderId: string, expected: string): Promise<void> | undefined {
    const customerId = this.customers.get(orderId);
    if (!customerId) return undefined;
    const running = this.reading.has(orderId);
    this.reading.set(orderId, expected);
    if (running) return undefined;
    return this.refresh(customerId, orderId).finally(() => this.reading.delete(orderId));
  }

  private async refresh(customerId: string, orderId: string): Promise<void> {
    for (let attempt = 0; !this.closed; attempt += 1) {
      try {
        const order = await this.options.readOrder(customerId, orderId);
        if (!order) return;
        const expected = this.reading.get(orderId) ?? order.status;
        if (hasReached(order.status, expected) || attempt >= this.delays.length) {
          this.note(order);
          return;
        }
      } catch (error) {
        this.options.onError?.(error, orderId);
        if (attempt >= this.delays.length) return;
      }
      await this.sleep(this.delays[attempt]!);
    }
  }

  private store(order: OrderJson): void {
    this.orders.delete(order.id);
    this.orders.set(order.id, order);
    while (this.orders.size > this.capacity) {
      const oldest = this.orders.keys().next().value as string;
      this.orders.delete(oldest);
    }
    this.emit({ kind: 'order', order });
  }

  private remember(orderId: string, customerId: string): void {
    // Ids of orders long gone from the board are forgotten too, oldest first.
    this.keepBounded(this.customers, orderId, customerId, this.capacity * 10);
  }

  /** Sets `key` as the newest entry of `map`, dropping the oldest beyond `limit`. */
  private keepBounded(map: Map<string, string>, key: string, value: string, limit = this.capacity): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > limit) map.delete(map.keys().next().value as string);
  }

  private emit(update: BoardUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
