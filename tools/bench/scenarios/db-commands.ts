// Database commands per order, from the POST to `awaiting_payment`, orders one at a time.
// Each round: an idle window as long as the round is expected to take (counted right before it),
// then N orders, each a POST followed by GETs every 20 ms until the order is awaiting_payment.
// The idle window's counts, scaled to the round's length, are subtracted: the services' pollers
// would have sent those commands anyway. The status GETs are the bench's own reads; what one GET
// costs is measured separately and reported next to the figure with them taken out.
import type { TestSystem } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder, pollUntilStatus } from '../context';
import { msPer, usageBetween } from '../cpu-meter';
import {
  diffCounts,
  openCommandCounter,
  perOperation,
  totalOf,
  type CommandCounter,
  type CommandCounts,
} from '../db-counters';
import { stackAddresses } from '@oms/testing';
import { median, medianByKey, percentile, sleep } from '../stats';

const ITEM = 'bench-dbc-item';
const CUSTOMER = 'bench-dbc';
const POLL_MS = 20;
const GET_SAMPLES = 50;

export interface DbCommandsResult {
  source: string;
  ordersPerRound: number;
  rounds: number;
  /** Median over rounds, per command, per order (status GETs included). */
  perOrder: CommandCounts;
  total: number;
  /** Status GETs the bench sent per order while waiting (median). */
  statusGetsPerOrder: number;
  /** Commands one GET of an order costs, per command (idle subtracted). */
  perGet: CommandCounts;
  /** perOrder less statusGetsPerOrder × perGet: what the order itself costs. */
  perOrderWithoutStatusGets: CommandCounts;
  totalWithoutStatusGets: number;
  /** Commands per second the idle system sends (median of the idle windows). */
  idleCommandsPerSecond: number;
  idleWindowSeconds: number;
  /** CPU ms per order per process, idle subtracted (median over rounds). */
  cpuMsPerOrder: Record<string, number>;
  /** The same without subtracting the idle windows. */
  cpuMsPerOrderRaw: Record<string, number>;
  /** POST → awaiting_payment as the bench saw it (includes up to one poll interval). */
  toAwaitingPaymentMs: { p50: number; max: number };
}

interface Round {
  perOrder: CommandCounts;
  total: number;
  statusGetsPerOrder: number;
  idlePerSecond: CommandCounts;
  idleSeconds: number;
  cpuMsPerOrder: Record<string, number>;
  cpuMsPerOrderRaw: Record<string, number>;
  latencies: number[];
}

async function oneOrder(system: TestSystem): Promise<{ gets: number; ms: number }> {
  const started = performance.now();
  const order = await createOrder(system, CUSTOMER, ITEM);
  const { gets } = await pollUntilStatus(system, order, 'awaiting_payment', { intervalMs: POLL_MS });
  return { gets, ms: performance.now() - started };
}

const withTotal = (ms: Record<string, number>) => ({
  ...ms,
  'total (system)': Object.values(ms).reduce((a, b) => a + b, 0),
});

const scaled = (counts: CommandCounts, factor: number) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v * factor]));

export async function dbCommands(ctx: BenchContext): Promise<DbCommandsResult> {
  const system = await ctx.system();
  const infra = await ctx.infrastructure();
  const counter: CommandCounter = await openCommandCounter({
    mongoUrl: (await stackAddresses()).MONGO_URL!,
    server: infra.databaseServer,
    debugAddress: infra.ferretDebugAddress,
  });
  try {
    await system.addItem(ITEM, 1_000_000_000);
    const meter = await ctx.meter(system);
    const n = ctx.options.dbOrders;

    // Warm-up, not counted: also tells how long a round of N orders takes.
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push((await oneOrder(system)).ms);
    const idleSeconds = Math.min(120, Math.max(5, (median(warm) * n) / 1000));

    const rounds: Round[] = [];
    for (let r = 0; r < ctx.options.rounds; r++) {
      await ctx.settle(system);
      const idleCounts0 = await counter.read();
      const idleCpu0 = meter.read();
      await sleep(idleSeconds * 1000);
      const idleCpu1 = meter.read();
      const idleCounts1 = await counter.read();

      const runCounts0 = await counter.read();
      const runCpu0 = meter.read();
      let gets = 0;
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        const one = await oneOrder(system);
        gets += one.gets;
        latencies.push(one.ms);
      }
      const runCpu1 = meter.read();
      const runCounts1 = await counter.read();

      const idle = usageBetween(idleCpu0, idleCpu1);
      const run = usageBetween(runCpu0, runCpu1);
      const scale = run.seconds / idle.seconds;
      const idleCounts = diffCounts(idleCounts0, idleCounts1);
      const perOrder = perOperation(diffCounts(runCounts0, runCounts1), idleCounts, scale, n);
      const raw = msPer(run, n);
      const idleMs = msPer({ ...idle, ms: scaled(idle.ms, scale) }, n);
      rounds.push({
        perOrder,
        total: totalOf(perOrder),
        statusGetsPerOrder: gets / n,
        idlePerSecond: scaled(idleCounts, 1 / idle.seconds),
        idleSeconds: idle.seconds,
        cpuMsPerOrderRaw: raw,
        cpuMsPerOrder: withTotal(
          Object.fromEntries(Object.keys(run.ms).map((label) => [label, raw[label]! - idleMs[label]!])),
        ),
        latencies,
      });
      console.log(
        `  round ${r + 1}: ${totalOf(perOrder).toFixed(1)} commands per order (${(gets / n).toFixed(1)} status GETs each), idle ${totalOf(scaled(idleCounts, 1 / idle.seconds)).toFixed(1)} commands/s`,
      );
    }

    // What one GET of an order costs, idle subtracted with the last idle window's rate.
    const probe = await createOrder(system, CUSTOMER, ITEM);
    await pollUntilStatus(system, probe, 'awaiting_payment');
    const getCounts0 = await counter.read();
    const getStarted = performance.now();
    for (let i = 0; i < GET_SAMPLES; i++) await system.getOrder(probe);
    const getSeconds = (performance.now() - getStarted) / 1000;
    const getCounts1 = await counter.read();
    const idleRate = rounds[rounds.length - 1]!.idlePerSecond;
    const perGet = perOperation(diffCounts(getCounts0, getCounts1), idleRate, getSeconds, GET_SAMPLES);

    const perOrder = medianByKey(rounds.map((r) => r.perOrder));
    const statusGetsPerOrder = median(rounds.map((r) => r.statusGetsPerOrder));
    const perOrderWithoutStatusGets = Object.fromEntries(
      Object.entries(perOrder).map(([k, v]) => [k, v - statusGetsPerOrder * (perGet[k] ?? 0)]),
    );
    const latencies = rounds.flatMap((r) => r.latencies);
    return {
      source: counter.source,
      ordersPerRound: n,
      rounds: rounds.length,
      perOrder,
      total: median(rounds.map((r) => r.total)),
      statusGetsPerOrder,
      perGet,
      perOrderWithoutStatusGets,
      totalWithoutStatusGets: median(rounds.map((r) => r.total - r.statusGetsPerOrder * totalOf(perGet))),
      idleCommandsPerSecond: median(rounds.map((r) => totalOf(r.idlePerSecond))),
      idleWindowSeconds: idleSeconds,
      cpuMsPerOrder: medianByKey(rounds.map((r) => r.cpuMsPerOrder)),
      cpuMsPerOrderRaw: medianByKey(rounds.map((r) => r.cpuMsPerOrderRaw)),
      toAwaitingPaymentMs: { p50: percentile(latencies, 0.5), max: Math.max(...latencies) },
    };
  } finally {
    await counter.close();
  }
}
