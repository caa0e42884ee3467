import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, signedCheckoutEvent, type CheckoutEventType } from '@oms/testing';
import { call, sleep, worthRetrying, type Answer } from './http';
import { seededRandom } from './schedule';

export type Fate = 'pay' | 'cancel' | 'expire';

/** An order the gateway answered 201 for, and what the traffic did with it. */
export interface KnownOrder {
  id: string;
  customerId: string;
  totalCents: number;
  currency: string;
  lines: { itemId: string; quantity: number }[];
  fate: Fate;
  /** The answer that settled the fate: webhook or cancel accepted (2xx), or refused (e.g. 409). */
  settled?: 'accepted' | 'refused' | 'gave-up';
}

/** Per second of the run: answers that were 2xx, and those that were not (or never came). */
export interface Second {
  ok: number;
  errors: number;
  created: number;
}

export interface TrafficOptions {
  seed: number;
  ratePerSecond: number;
  items: string[];
  gateways: () => string[];
}

interface OrderBody {
  id: string;
  customerId: string;
  status: string;
  totalCents: number;
  currency: string;
}

/**
 * The steady mixed flow of a chaos run: customers create orders (with an Idempotency-Key, retried
 * like a real client through faults, sometimes replayed), then pay most, cancel some and let some
 * sessions expire, with duplicate webhook deliveries. What it learns is only the reference for
 * the invariants; they are checked against the stores.
 */
export class Traffic {
  readonly orders = new Map<string, KnownOrder>();
  readonly seconds: Second[] = [];
  readonly violations: string[] = [];
  readonly counts = { attempted: 0, rejected: 0, unanswered: 0, replays: 0, duplicateWebhooks: 0 };
  private readonly random: () => number;
  private readonly flows = new Set<Promise<void>>();
  private started = 0;
  private stopped = false;
  private next = 0;

  constructor(private readonly options: TrafficOptions) {
    this.random = seededRandom(options.seed ^ 0x5eed);
  }

  start(): void {
    this.started = Date.now();
    void this.pace();
  }

  /** Stops starting flows and waits for those under way (each ends within its own deadlines). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.flows]);
  }

  private async pace(): Promise<void> {
    const gapMs = 1000 / this.options.ratePerSecond;
    for (let n = 0; !this.stopped; n++) {
      const flow = this.flow(n).catch((error: unknown) => {
        this.violations.push(`traffic flow ${n} crashed: ${String(error)}`);
      });
      this.flows.add(flow);
      void flow.finally(() => this.flows.delete(flow));
      await sleep(Math.max(0, this.started + (n + 1) * gapMs - Date.now()));
    }
  }

  private record(answer: Answer<unknown>, created = false): void {
    const second = Math.floor((Date.now() - this.started) / 1000);
    while (this.seconds.length <= second) this.seconds.push({ ok: 0, errors: 0, created: 0 });
    const bucket = this.seconds[second]!;
    if (answer.status >= 200 && answer.status < 300) bucket.ok++;
    else if (answer.status === 0 || answer.status >= 500 || answer.status === 429) bucket.errors++;
    else bucket.ok++; // a documented 4xx is a correct answer
    if (created) bucket.created++;
  }

  private gateway(): string {
    const gateways = this.options.gateways();
    return gateways[this.next++ % Math.max(1, gateways.length)] ?? 'http://127.0.0.1:1';
  }

  /** Sends until an answer that is not worth retrying, or the deadline; every answer is counted. */
  private async until<T>(
    deadlineMs: number,
    send: (gateway: string) => Promise<Answer<T>>,
    isCreate = false,
  ): Promise<Answer<T>> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const answer = await send(this.gateway());
      this.record(answer, isCreate && answer.status === 201);
      if (!worthRetrying(answer.status) || Date.now() > deadline) return answer;
      await sleep(answer.retryAfterMs ?? 250 + this.random() * 500);
    }
  }

  private async flow(n: number): Promise<void> {
    const customerId = `chaos-${n % 40}`;
    const order = await this.create(customerId);
    if (!order) return;
    const roll = this.random();
    const known: KnownOrder = { ...order, fate: roll < 0.75 ? 'pay' : roll < 0.875 ? 'cancel' : 'expire' };
    this.orders.set(order.id, known);
    if (known.fate === 'cancel') return this.cancel(known);
    return this.settleWithWebhook(
      known,
      known.fate === 'pay' ? 'checkout.session.completed' : 'checkout.session.expired',
    );
  }

  private async create(customerId: string): Promise<Omit<KnownOrder, 'fate'> | undefined> {
    this.counts.attempted++;
    const lines = this.pickLines();
    const key = randomUUID();
    const post = (gateway: string) =>
      call<OrderBody>(`${gateway}/v1/customers/${customerId}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ items: lines }),
      });
    const answer = await this.until(30_000, post, true);
    if (answer.status !== 201 || !answer.body) {
      if (worthRetrying(answer.status)) this.counts.unanswered++;
      else this.counts.rejected++;
      return undefined;
    }
    const order = { ...answer.body, lines };
    if (this.random() < 0.1) {
      this.counts.replays++;
      const replay = await this.until(30_000, post);
      if (replay.status === 201 && replay.body?.id !== order.id)
        this.violations.push(`create replayed with key ${key} made a second order ${replay.body?.id}`);
    }
    return order;
  }

  private pickLines(): { itemId: string; quantity: number }[] {
    const { items } = this.options;
    const first = Math.floor(this.random() * items.length);
    const count = this.random() < 0.3 ? 2 : 1;
    return Array.from({ length: count }, (_, i) => ({
      itemId: items[(first + i) % items.length]!,
      quantity: 1 + Math.floor(this.random() * 2),
    }));
  }

  private async cancel(order: KnownOrder): Promise<void> {
    const answer = await this.until(30_000, (gateway) =>
      call(`${gateway}/v1/customers/${order.customerId}/orders/${order.id}/cancel`, { method: 'POST' }),
    );
    order.settled = answer.status === 200 ? 'accepted' : answer.status === 409 ? 'refused' : 'gave-up';
  }

  /** Waits for the Checkout Session, then delivers the webhook as Stripe does: until a 2xx. */
  private async settleWithWebhook(order: KnownOrder, type: CheckoutEventType): Promise<void> {
    if (!(await this.awaitingPayment(order))) {
      order.settled = 'gave-up';
      return;
    }
    const { body, signature } = signedCheckoutEvent(type, order);
    const deliver = (gateway: string) =>
      call(`${gateway}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body,
      });
    const answer = await this.until(60_000, deliver);
    order.settled = answer.status === 200 ? 'accepted' : worthRetrying(answer.status) ? 'gave-up' : 'refused';
    if (answer.status === 200 && this.random() < 0.2) {
      this.counts.duplicateWebhooks++;
      await this.until(30_000, deliver);
    }
  }

  private async awaitingPayment(order: KnownOrder): Promise<boolean> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const answer = await call<OrderBody>(
        `${this.gateway()}/v1/customers/${order.customerId}/orders/${order.id}`,
        {
          method: 'GET',
        },
      );
      this.record(answer);
      if (answer.body?.status === 'awaiting_payment') return true;
      if (answer.status === 200 && answer.body?.status !== 'pending') return false;
      await sleep(300);
    }
    return false;
  }
}

/** Adds the run's menu items with plenty of stock, through the admin API. */
export async function seedMenu(gateway: string, items: string[], available: number): Promise<void> {
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  for (const id of items) {
    const created = await call(`${gateway}/v1/admin/menu`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        id,
        name: `Chaos ${id}`,
        description: 'chaos item',
        priceCents: 900,
        currency: 'usd',
      }),
    });
    if (created.status !== 201) throw new Error(`adding ${id} answered ${created.status}`);
    const stocked = await call(`${gateway}/v1/admin/stock/${id}`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ available }),
    });
    if (stocked.status !== 200) throw new Error(`stocking ${id} answered ${stocked.status}`);
  }
}
