import { MongoClient, type Db } from 'mongodb';
import { deploymentDatabase } from '@oms/testing';
import { sleep } from './http';
import type { KnownOrder } from './traffic';

export interface InvariantResult {
  name: string;
  passed: boolean;
  /** What broke it, naming the order, item or event; empty when it held. */
  failures: string[];
}

interface OrderDoc {
  _id: string;
  status: string;
  items: { itemId: string; quantity: number }[];
  history: { status: string; at: Date; reason?: string }[];
  expiresAt: Date;
  releasePending?: boolean;
}

interface ItemDoc {
  _id: string;
  available: number;
  reserved: number;
  committed: number;
  steps?: Record<string, string>;
  holds?: Record<string, Date>;
}

/** Stock's record of a reservation; its id is the order's. */
interface ReservationDoc {
  _id: string;
  status: string;
  lines: { itemId: string; quantity: number }[];
  heldAll?: boolean;
  expiresAt: Date;
}

export interface DeadLetterQueue {
  queue: string;
  count: number;
  newest: { eventId?: string; type?: string; lastError?: string; attempts?: number }[];
}

/** What the invariants read: the stores of one deployment, and the traffic's reference. */
export interface Evidence {
  orders: OrderDoc[];
  items: ItemDoc[];
  reservations: ReservationDoc[];
  tickets: { orderId: string; status: string }[];
  known: Map<string, KnownOrder>;
  initialStock: number;
  deadLetters: DeadLetterQueue[];
  rss: Map<string, number[]>;
}

const TERMINAL = new Set(['ready', 'cancelled', 'failed']);
/** An unpaid order lapses within one sweep of its expiry: the sweeper sleeps at most 30 s. */
const SWEEP_SLACK_MS = 35_000;
const databases = (deployment: string) => ({
  order: deploymentDatabase('order', deployment),
  stock: deploymentDatabase('stock', deployment),
  kitchen: deploymentDatabase('kitchen', deployment),
});

/**
 * Waits until no work is in flight: nothing paid but unprepared, no release or step pending, no
 * reservation decided but unfinished, and no unpaid order more than a few seconds past its expiry.
 */
/** How the quiet period ended: settled, or given up with `left` orders and items still busy. */
export interface Settling {
  settled: boolean;
  seconds: number;
  left: number;
}

/**
 * The quiet period after the traffic: waits until no order has work due, no item has a step in
 * flight and no event waits in a queue. A run that left a backlog (more accepted than the machine
 * could finish) takes as long as the backlog does, so it is waited for while it shrinks; it is
 * given up on once it has not shrunk for `stallMs`, or after `timeoutMs` in all.
 */
export async function settle(
  mongoUrl: string,
  deployment: string,
  {
    timeoutMs,
    stallMs,
    messagesPending,
  }: {
    timeoutMs: number;
    stallMs: number;
    /**
     * Events still queued or waiting in a retry tier: the stores can look settled while an event
     * that will change them waits out its retry delay.
     */
    messagesPending?: () => number;
  },
): Promise<Settling> {
  const client = await MongoClient.connect(mongoUrl, { retryWrites: false });
  const started = Date.now();
  const result = (settled: boolean, left: number): Settling => ({
    settled,
    seconds: (Date.now() - started) / 1000,
    left,
  });
  try {
    const names = databases(deployment);
    let fewest = Number.POSITIVE_INFINITY;
    let shrunkAt = started;
    while (Date.now() - started < timeoutMs) {
      // Stricter than the invariant's slack, so an order cannot lapse past it between here and the check.
      const lapsed = { $lt: new Date(Date.now() - 5000) };
      const busyOrders = await client
        .db(names.order)
        .collection('orders')
        .countDocuments({
          $or: [
            { status: 'paid' },
            { status: 'preparing' },
            { releasePending: true },
            { status: 'pending', expiresAt: lapsed },
            { status: 'awaiting_payment', expiresAt: lapsed },
          ],
        });
      const items = await client.db(names.stock).collection<ItemDoc>('stock_items').find({}).toArray();
      // A reservation decided but not finished: a stock process stopped between the decision and
      // its steps on the items (which mark nothing yet), and the sweeper finishes it once it has
      // not moved for stuckAfterMs.
      const unfinishedReservations = await client
        .db(names.stock)
        .collection('reservations')
        .countDocuments({ status: { $in: ['committing', 'releasing'] } });
      let busy =
        busyOrders +
        unfinishedReservations +
        items.filter(
          (item) => Object.keys(item.steps ?? {}).length + Object.keys(item.holds ?? {}).length > 0,
        ).length;
      if (busy === 0 && messagesPending) busy = messagesPending();
      if (busy === 0) return result(true, 0);
      if (busy < fewest) {
        fewest = busy;
        shrunkAt = Date.now();
      } else if (Date.now() - shrunkAt > stallMs) {
        return result(false, busy);
      }
      await sleep(1000);
    }
    return result(false, fewest);
  } finally {
    await client.close();
  }
}

export async function readStores(
  mongoUrl: string,
  deployment: string,
): Promise<Pick<Evidence, 'orders' | 'items' | 'reservations' | 'tickets'>> {
  const client = await MongoClient.connect(mongoUrl, { retryWrites: false });
  try {
    const names = databases(deployment);
    const read = <T>(db: Db, collection: string) =>
      db.collection(collection).find({}).toArray() as Promise<T[]>;
    return {
      orders: await read<OrderDoc>(client.db(names.order), 'orders'),
      items: await read<ItemDoc>(client.db(names.stock), 'stock_items'),
      reservations: await read<ReservationDoc>(client.db(names.stock), 'reservations'),
      tickets: await read<{ orderId: string; status: string }>(client.db(names.kitchen), 'tickets'),
    };
  } finally {
    await client.close();
  }
}

const result = (name: string, failures: string[]): InvariantResult => ({
  name,
  passed: failures.length === 0,
  failures: failures.slice(0, 20).concat(failures.length > 20 ? [`… and ${failures.length - 20} more`] : []),
});

export function checkInvariants(evidence: Evidence, now = new Date()): InvariantResult[] {
  return [
    acceptedOrdersExist(evidence),
    ordersEndAsTheirEventsDictate(evidence),
    nothingStuck(evidence, now),
    appliedOnce(evidence),
    stockConserved(evidence, now),
    deadLettersAccountedFor(evidence),
    memoryBounded(evidence),
  ];
}

function acceptedOrdersExist({ orders, known }: Evidence): InvariantResult {
  const stored = new Set(orders.map((o) => o._id));
  const missing = [...known.keys()]
    .filter((id) => !stored.has(id))
    .map((id) => `order ${id} answered 201 but not stored`);
  return result('every order answered 201 exists', missing);
}

/** What the traffic's accepted webhook or cancel decides, unless the order had ended before it. */
function expectedStatus(order: KnownOrder, doc: OrderDoc): string | undefined {
  if (order.settled !== 'accepted') return undefined;
  const endedEarlier = doc.history.find((step) => TERMINAL.has(step.status));
  if (order.fate === 'pay')
    return endedEarlier && endedEarlier.status !== 'ready' ? endedEarlier.status : 'ready';
  if (order.fate === 'cancel') return 'cancelled';
  return doc.history.some((step) => step.status === 'paid') ? 'ready' : 'failed';
}

function ordersEndAsTheirEventsDictate({ orders, known }: Evidence): InvariantResult {
  const failures: string[] = [];
  for (const doc of orders) {
    const order = known.get(doc._id);
    const expected = order && expectedStatus(order, doc);
    if (expected && doc.status !== expected)
      failures.push(
        `order ${doc._id} (${order.fate}, ${order.settled}) ended ${doc.status}, expected ${expected}`,
      );
  }
  return result('every order ends in the state its events dictate', failures);
}

function nothingStuck({ orders }: Evidence, now: Date): InvariantResult {
  const stuck = orders.filter((doc) => {
    if (TERMINAL.has(doc.status)) return false;
    const expiryPending =
      (doc.status === 'pending' || doc.status === 'awaiting_payment') &&
      doc.expiresAt.getTime() > now.getTime() - SWEEP_SLACK_MS;
    return !expiryPending;
  });
  return result(
    'no order is stuck in a non-terminal state with no work pending',
    stuck.map((doc) => `order ${doc._id} stuck in ${doc.status} (expires ${doc.expiresAt.toISOString()})`),
  );
}

function appliedOnce({ orders, tickets }: Evidence): InvariantResult {
  const failures: string[] = [];
  const ticketsByOrder = new Map<string, number>();
  for (const ticket of tickets)
    ticketsByOrder.set(ticket.orderId, (ticketsByOrder.get(ticket.orderId) ?? 0) + 1);
  for (const doc of orders) {
    const statuses = doc.history.map((step) => step.status);
    const repeated = statuses.filter((status, i) => statuses.indexOf(status) !== i);
    if (repeated.length > 0) failures.push(`order ${doc._id} entered ${repeated.join(', ')} twice`);
    const wasPaid = statuses.includes('paid');
    const count = ticketsByOrder.get(doc._id) ?? 0;
    if (wasPaid && count !== 1) failures.push(`paid order ${doc._id} has ${count} tickets`);
    if (!wasPaid && count > 0) failures.push(`unpaid order ${doc._id} has ${count} tickets`);
  }
  return result('no event applied twice; every paid order has exactly one ticket', failures);
}

/**
 * Stock adds up per item, and what is reserved is held by a reservation entitled to it. Stock's
 * own books: an item's reserved count is what its reservations hold. Each of those belongs to an
 * open order, or to none: order reserves before it stores the order, so a create that failed or
 * stopped in between (a database restart, a killed instance, a missed deadline) leaves a
 * reservation that holds until it lapses.
 */
function stockConserved({ orders, items, reservations, initialStock }: Evidence, now: Date): InvariantResult {
  const failures: string[] = [];
  const sum = (filter: (doc: OrderDoc) => boolean, itemId: string) =>
    orders
      .filter(filter)
      .flatMap((doc) => doc.items)
      .filter((line) => line.itemId === itemId)
      .reduce((total, line) => total + line.quantity, 0);
  const ordersById = new Map(orders.map((doc) => [doc._id, doc]));
  const holding = reservations.filter(holdsStock);
  const orphans = holding.filter((reservation) => !ordersById.has(reservation._id));
  const orphansHold = (itemId: string, unlapsedOnly: boolean) =>
    orphans
      .filter((reservation) => !unlapsedOnly || reservation.expiresAt > now)
      .reduce((total, reservation) => total + quantityOf(reservation, itemId), 0);
  for (const item of items) {
    const { _id: id, available, reserved, committed } = item;
    if (available + reserved + committed !== initialStock)
      failures.push(
        `item ${id}: ${available} available + ${reserved} reserved + ${committed} committed ≠ ${initialStock}`,
      );
    if (available < 0 || reserved < 0 || committed < 0) failures.push(`item ${id} went negative`);
    const sold = sum((doc) => doc.history.some((step) => step.status === 'paid'), id);
    if (committed !== sold) failures.push(`item ${id}: ${committed} committed, but paid orders hold ${sold}`);
    // With a step in flight the counters are between two reservation states; settling waits for none.
    const midStep = Object.keys(item.steps ?? {}).length + Object.keys(item.holds ?? {}).length > 0;
    const booked = holding.reduce((total, reservation) => total + quantityOf(reservation, id), 0);
    if (!midStep && reserved !== booked)
      failures.push(`item ${id}: ${reserved} reserved, but stock's reservations hold ${booked}`);
    // Open orders hold their reservation until it lapses; around its expiry, stock's sweeper and
    // order's may act a moment apart, so those orders may hold it or not.
    const open = (doc: OrderDoc) => doc.status === 'pending' || doc.status === 'awaiting_payment';
    const heldAtMost = sum(open, id) + orphansHold(id, false);
    const heldAtLeast = sum((doc) => open(doc) && doc.expiresAt > now, id) + orphansHold(id, true);
    if (reserved > heldAtMost || reserved < heldAtLeast)
      failures.push(
        `item ${id}: ${reserved} reserved, but open orders and orderless reservations hold ${heldAtLeast}..${heldAtMost}`,
      );
  }
  for (const reservation of holding) {
    const order = ordersById.get(reservation._id);
    if (order && TERMINAL.has(order.status))
      failures.push(
        `reservation ${reservation._id} (${reservation.status}) holds stock, but its order ended ${order.status}`,
      );
    if (!order && reservation.expiresAt.getTime() < now.getTime() - SWEEP_SLACK_MS)
      failures.push(
        `reservation ${reservation._id} has no order and lapsed at ${reservation.expiresAt.toISOString()}, but still holds stock`,
      );
  }
  return result('stock is conserved per item: nothing oversold, nothing negative', failures);
}

/**
 * Whether a reservation holds its lines once no step is in flight: reserved, or decided to commit
 * or to give back every line but not yet moved (a pending one holds only what its marks say).
 */
const holdsStock = (reservation: ReservationDoc): boolean =>
  reservation.status === 'reserved' ||
  reservation.status === 'committing' ||
  (reservation.status === 'releasing' && reservation.heldAll === true);

const quantityOf = (reservation: ReservationDoc, itemId: string): number =>
  reservation.lines
    .filter((line) => line.itemId === itemId)
    .reduce((total, line) => total + line.quantity, 0);

/**
 * A dead letter is accounted for when it is a payment that came after its order had ended. (A
 * paid order's stock is committed before it is marked paid, so no stock commit can be refused.)
 */
const EXPLAINED = /precondition|already (ended|failed|cancelled)/i;

function deadLettersAccountedFor({ deadLetters }: Evidence): InvariantResult {
  const failures = deadLetters.flatMap((queue) =>
    queue.newest
      .filter((message) => !EXPLAINED.test(message.lastError ?? ''))
      .map(
        (message) =>
          `${queue.queue}: event ${message.eventId} (${message.type}) dead-lettered: ${message.lastError}`,
      ),
  );
  return result('every dead letter is accounted for', failures);
}

/**
 * Growth that goes on once a process has reached its working size is what a leak looks like: the
 * last third of the run against the middle third. The first third is warm-up: a Node process
 * starts at about half the resident size it settles at under load (the gateway 157 MB, then
 * 250-320 MB in the bench), which a short run's first third would count as growth.
 */
function memoryBounded({ rss }: Evidence): InvariantResult {
  const failures: string[] = [];
  for (const [instance, samples] of rss) {
    if (samples.length < 9) continue;
    const third = Math.floor(samples.length / 3);
    const settled = Math.max(...samples.slice(third, 2 * third));
    const late = Math.max(...samples.slice(-third));
    if (late > settled * 1.5 + 64) failures.push(`${instance}: RSS grew from ${settled} MB to ${late} MB`);
  }
  return result('memory (RSS) of every service stays bounded', failures);
}
