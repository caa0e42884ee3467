/**
 * The live board: the gateway's Server-Sent Events (GET /console/api/stream), fed there by the
 * order, payment and kitchen events on RabbitMQ. EventSource cannot send the admin token, so each
 * (re)connect first trades it for a short-lived pass cookie (POST /console/api/session).
 */
import { useEffect, useState } from 'preact/hooks';
import { call, type Order } from './api';
import type { components } from './generated/gateway-api';

type StreamMessages = components['schemas']['ConsoleStreamMessages'];
export type KitchenMessage = StreamMessages['kitchen'];
export type Connection = 'connecting' | 'live' | 'reconnecting';

type Listener = () => void;

const RETRY_MS = [500, 1000, 2000, 5000];

class LiveFeed {
  orders = new Map<string, Order>();
  connection: Connection = 'connecting';
  /** Bumped by every kitchen message: views that show tickets read them again. */
  kitchenVersion = 0;
  lastKitchen: KitchenMessage | undefined;
  private source: EventSource | undefined;
  private readonly listeners = new Set<Listener>();
  private failures = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.retry);
    this.source?.close();
    this.source = undefined;
    this.orders.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An order this tab changed or read itself (a cancel, a customer's list): newer wins. */
  note(order: Order): void {
    const known = this.orders.get(order.id);
    if (known && known.updatedAt > order.updatedAt) return;
    this.orders.set(order.id, order);
    this.changed();
  }

  private async connect(): Promise<void> {
    try {
      await call('post', '/console/api/session');
    } catch {
      return this.reconnectLater();
    }
    if (!this.started) return;
    const source = new EventSource('/console/api/stream');
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.setConnection('live');
    });
    source.addEventListener('snapshot', (message) => {
      const { orders } = JSON.parse((message as MessageEvent<string>).data) as StreamMessages['snapshot'];
      for (const order of [...orders].reverse()) this.note(order);
    });
    source.addEventListener('order', (message) => {
      this.note(JSON.parse((message as MessageEvent<string>).data) as Order);
    });
    source.addEventListener('kitchen', (message) => {
      this.lastKitchen = JSON.parse((message as MessageEvent<string>).data) as KitchenMessage;
      this.kitchenVersion += 1;
      this.changed();
    });
    // The browser would retry with the same (soon expired) pass: reconnect with a fresh one instead.
    source.addEventListener('error', () => {
      source.close();
      if (this.source === source) this.reconnectLater();
    });
  }

  private reconnectLater(): void {
    if (!this.started) return;
    this.setConnection('reconnecting');
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]!;
    this.failures += 1;
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  private setConnection(connection: Connection): void {
    this.connection = connection;
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export const live = new LiveFeed();

/** Re-renders the calling component on every change of the feed; returns the feed. */
export function useLive(): LiveFeed {
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(() => setVersion((version) => version + 1)), []);
  return live;
}
