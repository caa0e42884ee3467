// Data growth: the same measurements with BENCH_GROWTH_BASELINE (~1k) and BENCH_GROWTH_ORDERS
// (100k) orders stored, in one system of its own (all six services):
//   1. idle: no traffic for BENCH_IDLE_S seconds; CPU share of a core of FerretDB, PostgreSQL
//      and our services together;
//   2. get-order: BENCH_GET_SAMPLES sequential GETs of random stored orders, p50;
//   3. create-order at BENCH_CONNECTIONS, median of BENCH_ROUNDS rounds.
// The orders are one real order (created, paid through the webhook, prepared: `ready`; a
// cancelled one if the lifecycle does not finish) and copies of its document (see seed-orders.ts).
import { MongoClient, type Document } from 'mongodb';
import type { TestSystem } from '@oms/testing';
import { stackAddresses } from '@oms/testing';
import { databaseName } from '@oms/persistence';
import type { BenchContext } from '../context';
import { createOrder, pollUntilStatus, untilQuiet } from '../context';
import { coreShare, type CpuMeter } from '../cpu-meter';
import { continuousHttp, measureWindows, type Measurement } from '../load';
import { SEED_BATCH, SEED_CUSTOMERS, seedOrders, type SeededOrder } from '../seed-orders';
import { median, medianByKey, percentile, sleep } from '../stats';

const ITEM = 'growth-item';
/**
 * After seeding: the least and the most wait, and the database counts as done with the seeding
 * below `threshold` of a core (the idle target) over one `windowMs`. The report quotes it.
 */
export const DATABASE_SETTLE = { minS: 10, maxS: 300, threshold: 0.05, windowMs: 2_000 };

export interface GrowthPhase {
  ordersStored: number;
  /**
   * Seconds waited after seeding until the database processes (the server, and PostgreSQL under
   * FerretDB) went quiet (DATABASE_SETTLE): a bulk insert leaves work behind
   * (PostgreSQL's autovacuum and analyze of the new rows) that orders arriving over weeks would
   * have had done long ago. `settled` false: still busy at DATABASE_SETTLE.maxS.
   */
  databaseSettle: { seconds: number; settled: boolean };
  idle: {
    seconds: number;
    /** Share of one core: 0.05 = 5 %. */
    ferretdb: number;
    postgres: number;
    services: number;
    /** The rest of the machine (other work sharing it), for judging the noise. */
    restOfMachine: number;
    byProcess: Record<string, number>;
  };
  getOrderMs: { p50: number; p90: number; samples: number; non200: number };
  createOrder: Pick<Measurement, 'okPerSecond' | 'p50' | 'p99' | 'errors' | 'failures'>;
}

export interface GrowthResult {
  seeding: string;
  templateStatus: string;
  seedRatePerSecond: number;
  phases: GrowthPhase[];
}

/** One real order, as far along as it gets: `ready` if the lifecycle works, else `cancelled`. */
async function realOrder(system: TestSystem): Promise<{ id: string; customerId: string }> {
  const created = await createOrder(system, 'growth-real', ITEM);
  try {
    const { order } = await pollUntilStatus(system, created, 'awaiting_payment');
    await system.webhook('checkout.session.completed', order).send();
    await pollUntilStatus(system, order, 'ready', { intervalMs: 100, timeoutMs: 30_000 });
    return order;
  } catch (error) {
    console.warn(`  (no ready order: ${(error as Error).message}; copying a cancelled one)`);
    const other = await createOrder(system, 'growth-real', ITEM);
    await system.request('POST', `/v1/customers/${other.customerId}/orders/${other.id}/cancel`);
    await pollUntilStatus(system, other, 'cancelled');
    return other;
  }
}

/** The order's document once its outbox is drained (a copy must not carry events to publish). */
async function templateOf(orders: import('mongodb').Collection<Document>, id: string): Promise<Document> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const doc = await orders.findOne({ _id: id as never });
    if (!doc) throw new Error(`order ${id} is not in the orders collection`);
    if (!doc.outboxPending || Date.now() > deadline) {
      const { outbox: _outbox, outboxPending: _pending, ...rest } = doc;
      return rest;
    }
    await sleep(250);
  }
}

async function measurePhase(
  ctx: BenchContext,
  system: TestSystem,
  meter: CpuMeter,
  ordersStored: number,
  seeded: SeededOrder[],
): Promise<GrowthPhase> {
  const { idleSeconds, getSamples, rounds, connections, durationS } = ctx.options;
  const databaseSettle = await settleDatabase(ctx, meter);
  console.log(`  ${ordersStored} orders stored: ${idleSeconds} s idle…`);
  const { usage } = await meter.measure(() => sleep(idleSeconds * 1000));
  const share = coreShare(usage);
  const kinds = new Map(meter.groups.map((g) => [g.label, g.kind]));
  const services = Object.entries(share)
    .filter(([label]) => kinds.get(label) === 'service')
    .reduce((sum, [, s]) => sum + s, 0);

  const latencies: number[] = [];
  let non200 = 0;
  for (let i = 0; i < getSamples; i++) {
    const ref = seeded[Math.floor(Math.random() * seeded.length)]!;
    const started = performance.now();
    const { status } = await system.request('GET', `/v1/customers/${ref.customerId}/orders/${ref.id}`);
    latencies.push(performance.now() - started);
    if (status !== 200) non200++;
  }

  const { windows } = await measureWindows(
    { connections, durationS, rounds },
    meter,
    continuousHttp(connections, {
      url: `${system.gatewayUrl}/v1/customers/growth-load/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ itemId: ITEM, quantity: 1 }] }),
    }),
  );
  const creates: Measurement[] = windows.map((w) => w.result);
  const phase: GrowthPhase = {
    ordersStored,
    databaseSettle,
    idle: {
      seconds: usage.seconds,
      ferretdb: share.ferretdb ?? NaN,
      postgres: share.postgres ?? NaN,
      services,
      restOfMachine: usage.otherMs / 1000 / usage.seconds,
      byProcess: share,
    },
    getOrderMs: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      samples: getSamples,
      non200,
    },
    createOrder: {
      okPerSecond: median(creates.map((c) => c.okPerSecond)),
      p50: median(creates.map((c) => c.p50)),
      p99: median(creates.map((c) => c.p99)),
      errors: median(creates.map((c) => c.errors)),
      failures: medianByKey(creates.map((c) => c.failures)),
    },
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(
    `  ${ordersStored} orders: idle ferretdb ${pct(phase.idle.ferretdb)}, postgres ${pct(phase.idle.postgres)}, ` +
      `services ${pct(services)}; get p50 ${phase.getOrderMs.p50.toFixed(1)} ms; create ${phase.createOrder.okPerSecond.toFixed(0)}/s`,
  );
  return phase;
}

/** Waits out the database's own work after a seeding (see GrowthPhase.databaseSettle). */
async function settleDatabase(ctx: BenchContext, meter: CpuMeter): Promise<GrowthPhase['databaseSettle']> {
  const { databaseServer } = await ctx.infrastructure();
  const { seconds, quiet } = await untilQuiet(meter, {
    threshold: DATABASE_SETTLE.threshold,
    firstWaitMs: DATABASE_SETTLE.minS * 1000,
    windowMs: DATABASE_SETTLE.windowMs,
    timeoutMs: DATABASE_SETTLE.maxS * 1000,
    labels: new Set([databaseServer ?? 'database', 'postgres']),
  });
  if (!quiet)
    console.warn(`  (the database was still busy ${DATABASE_SETTLE.maxS} s after seeding; measuring anyway)`);
  return { seconds, settled: quiet };
}

export async function growth(ctx: BenchContext): Promise<GrowthResult> {
  await ctx.releaseSystem();
  const system = await ctx.startSystem({ prefix: 'benchgrowth', env: { KITCHEN_PREP_MS: '100' } });
  const client = new MongoClient((await stackAddresses()).MONGO_URL!, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    const orders = client.db(databaseName('order', system.deployment)).collection<Document>('orders');
    const count = () => orders.countDocuments();
    await system.addItem(ITEM, 1_000_000_000);
    const real = await realOrder(system);
    const template = await templateOf(orders, real.id);
    const meter = await ctx.meter(system);

    const seeded: SeededOrder[] = [real];
    let seedSeconds = 0;
    /** Seeds up to `target` orders; returns how many are stored then. */
    const seedTo = async (target: number): Promise<number> => {
      // Counted only before seeding, while the collection is small. FerretDB v1 counts by reading
      // and decoding every document: 100k took 30 s of its CPU and grew its heap to 3.7 GB, which
      // its Go runtime then gave back for minutes (about 3 % of a core), so the idle window after
      // a count measured the bench's own count.
      const stored = await count();
      const missing = target - stored;
      if (missing <= 0) return stored;
      console.log(`  seeding ${missing} copies of order ${real.id} (${template.status})…`);
      const done = await seedOrders(orders, template, missing, seeded.length);
      seeded.push(...done.seeded);
      seedSeconds += done.seconds;
      return stored + done.seeded.length;
    };

    const baseline = await measurePhase(ctx, system, meter, await seedTo(ctx.options.growthBaseline), seeded);
    const grown = await measurePhase(ctx, system, meter, await seedTo(ctx.options.growthOrders), seeded);
    return {
      seeding:
        `copies of one real order document (status ${template.status}) read back from the order ` +
        `service's database, inserted straight into it with insertMany in batches of ${SEED_BATCH}: ` +
        `each with a fresh _id, one of ${SEED_CUSTOMERS} customer ids and every date moved back by ` +
        `a random 0–90 days`,
      templateStatus: String(template.status),
      seedRatePerSecond: (seeded.length - 1) / Math.max(seedSeconds, 1e-9),
      phases: [baseline, grown],
    };
  } finally {
    await client.close();
    await system.stop();
  }
}
