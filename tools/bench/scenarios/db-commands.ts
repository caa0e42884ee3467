// Database commands per order, from the POST to `awaiting_payment`, orders one at a time.
// Each round counts the server's commands and every process's CPU time in three windows:
//   1. idle, as long as the orders are expected to take: what the services' pollers cost alone;
//   2. N orders, each a POST, then (after most of the usual wait) a GET every 20 ms until the
//      order is awaiting_payment;
//   3. GET_SAMPLES GETs of one order: what one of the bench's own status GETs costs.
// The idle rate is subtracted from windows 2 and 3 (those commands would have been sent anyway),
// then the status GETs' share from window 2. The command breakdown is the median round's (so it
// adds up to its total); CPU figures are medians per process over the rounds.
import type { TestOrder, TestSystem } from '@oms/testing';
import { stackAddresses } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder, pollUntilStatus } from '../context';
import { msPer, type CpuMeter, type CpuUsage } from '../cpu-meter';
import {
  diffCounts,
  openCommandCounter,
  perOperation,
  totalOf,
  type CommandCounter,
  type CommandCounts,
} from '../db-counters';
import { median, medianByKey, percentile, sleep } from '../stats';

const ITEM = 'bench-dbc-item';
const CUSTOMER = 'bench-dbc';
const POLL_MS = 20;
const GET_SAMPLES = 100;

interface Window {
  counts: CommandCounts;
  usage: CpuUsage;
}

/** One round's figures, per order. */
export interface DbRound {
  /** Per command, status GETs included. */
  perOrder: CommandCounts;
  total: number;
  /** Status GETs the bench sent per order while waiting. */
  statusGetsPerOrder: number;
  /** Commands one GET of an order costs, per command. */
  perGet: CommandCounts;
  /** perOrder less statusGetsPerOrder × perGet: what the order itself costs. */
  perOrderWithoutStatusGets: CommandCounts;
  totalWithoutStatusGets: number;
  /** Commands per second the idle system sent in this round's idle window. */
  idleCommandsPerSecond: number;
  /** CPU ms per order per process, idle subtracted. */
  cpuMsPerOrder: Record<string, number>;
  /** The same with the status GETs' CPU taken out (measured like their commands). */
  cpuMsPerOrderWithoutStatusGets: Record<string, number>;
  /** Nothing subtracted. */
  cpuMsPerOrderRaw: Record<string, number>;
  /** Share of a core the rest of the machine used meanwhile (other work sharing it). */
  restOfMachine: number;
  latencies: number[];
}

export interface DbCommandsResult {
  source: string;
  ordersPerRound: number;
  idleWindowSeconds: number;
  /** The round whose total (status GETs taken out) is the median one. */
  medianRound: Omit<DbRound, 'latencies'>;
  /** Every round's total, status GETs taken out, to show the spread. */
  roundTotals: number[];
  /** Medians over rounds, per process. */
  cpuMsPerOrder: Record<string, number>;
  cpuMsPerOrderWithoutStatusGets: Record<string, number>;
  cpuMsPerOrderRaw: Record<string, number>;
  idleCommandsPerSecond: number;
  restOfMachine: number;
  /** POST → awaiting_payment as the bench saw it (includes up to one poll interval). */
  toAwaitingPaymentMs: { p50: number; max: number };
}

/** The server's command counts and every process's CPU time around `work`. */
async function counted(
  counter: CommandCounter,
  meter: CpuMeter,
  work: () => Promise<unknown>,
): Promise<Window> {
  const before = await counter.read();
  const { usage } = await meter.measure(work);
  return { counts: diffCounts(before, await counter.read()), usage };
}

const withTotal = (ms: Record<string, number>) => ({
  ...ms,
  'total (system)': Object.values(ms).reduce((a, b) => a + b, 0),
});

const minus = (a: Record<string, number>, b: Record<string, number>, times: number) =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - times * (b[k] ?? 0)]));

/** Per operation, with the idle window's rate (scaled to this window's length) subtracted. */
function perOp(window: Window, idle: Window, operations: number) {
  const scale = window.usage.seconds / idle.usage.seconds;
  const cpu: Record<string, number> = {};
  for (const [label, ms] of Object.entries(window.usage.ms))
    cpu[label] = (ms - (idle.usage.ms[label] ?? 0) * scale) / operations;
  return { commands: perOperation(window.counts, idle.counts, scale, operations), cpu: withTotal(cpu) };
}

function summarize(
  idle: Window,
  orders: Window,
  probe: Window,
  n: number,
  gets: number,
  latencies: number[],
) {
  const perOrder = perOp(orders, idle, n);
  const perGet = perOp(probe, idle, GET_SAMPLES);
  const statusGetsPerOrder = gets / n;
  const perOrderWithoutStatusGets = minus(perOrder.commands, perGet.commands, statusGetsPerOrder);
  return {
    perOrder: perOrder.commands,
    total: totalOf(perOrder.commands),
    statusGetsPerOrder,
    perGet: perGet.commands,
    perOrderWithoutStatusGets,
    totalWithoutStatusGets: totalOf(perOrderWithoutStatusGets),
    idleCommandsPerSecond: totalOf(idle.counts) / idle.usage.seconds,
    cpuMsPerOrder: perOrder.cpu,
    cpuMsPerOrderWithoutStatusGets: minus(perOrder.cpu, perGet.cpu, statusGetsPerOrder),
    cpuMsPerOrderRaw: msPer(orders.usage, n),
    restOfMachine: orders.usage.otherMs / 1000 / orders.usage.seconds,
    latencies,
  } satisfies DbRound;
}

async function oneOrder(
  system: TestSystem,
  firstPollAfterMs: number,
): Promise<{ order: TestOrder; gets: number; ms: number }> {
  const started = performance.now();
  const created = await createOrder(system, CUSTOMER, ITEM);
  await sleep(firstPollAfterMs - (performance.now() - started));
  const { order, gets } = await pollUntilStatus(system, created, 'awaiting_payment', {
    intervalMs: POLL_MS,
  });
  return { order, gets, ms: performance.now() - started };
}

export async function dbCommands(ctx: BenchContext): Promise<DbCommandsResult> {
  const system = await ctx.system();
  const infra = await ctx.infrastructure();
  const counter = await openCommandCounter({
    mongoUrl: (await stackAddresses()).MONGO_URL!,
    server: infra.databaseServer,
    debugAddress: infra.ferretDebugAddress,
  });
  try {
    await system.addItem(ITEM, 1_000_000_000);
    const meter = await ctx.meter(system);
    const n = ctx.options.dbOrders;

    // Warm-up, not counted: how long an order takes to reach awaiting_payment tells how long to
    // stay idle, and how long to wait before the first status GET.
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push((await oneOrder(system, 0)).ms);
    const idleSeconds = Math.min(120, Math.max(5, (median(warm) * n) / 1000));
    const firstPollAfterMs = 0.8 * Math.min(...warm);

    const rounds: DbRound[] = [];
    for (let r = 0; r < ctx.options.dbRounds; r++) {
      await ctx.settle(system);
      const idle = await counted(counter, meter, () => sleep(idleSeconds * 1000));
      let gets = 0;
      let last: TestOrder | undefined;
      const latencies: number[] = [];
      const orders = await counted(counter, meter, async () => {
        for (let i = 0; i < n; i++) {
          const one = await oneOrder(system, firstPollAfterMs);
          gets += one.gets;
          last = one.order;
          latencies.push(one.ms);
        }
      });
      const probe = await counted(counter, meter, async () => {
        for (let i = 0; i < GET_SAMPLES; i++) await system.getOrder(last!);
      });
      const round = summarize(idle, orders, probe, n, gets, latencies);
      rounds.push(round);
      console.log(
        `  round ${r + 1}: ${round.totalWithoutStatusGets.toFixed(1)} commands per order ` +
          `(${round.total.toFixed(1)} with ${round.statusGetsPerOrder.toFixed(1)} status GETs of ${totalOf(round.perGet).toFixed(2)}); ` +
          `idle ${round.idleCommandsPerSecond.toFixed(1)} commands/s`,
      );
    }

    const byTotal = [...rounds].sort((a, b) => a.totalWithoutStatusGets - b.totalWithoutStatusGets);
    const { latencies: _latencies, ...medianRound } = byTotal[Math.floor((byTotal.length - 1) / 2)]!;
    const latencies = rounds.flatMap((r) => r.latencies);
    return {
      source: counter.source,
      ordersPerRound: n,
      idleWindowSeconds: idleSeconds,
      medianRound,
      roundTotals: rounds.map((r) => r.totalWithoutStatusGets),
      cpuMsPerOrder: medianByKey(rounds.map((r) => r.cpuMsPerOrder)),
      cpuMsPerOrderWithoutStatusGets: medianByKey(rounds.map((r) => r.cpuMsPerOrderWithoutStatusGets)),
      cpuMsPerOrderRaw: medianByKey(rounds.map((r) => r.cpuMsPerOrderRaw)),
      idleCommandsPerSecond: median(rounds.map((r) => r.idleCommandsPerSecond)),
      restOfMachine: median(rounds.map((r) => r.restOfMachine)),
      toAwaitingPaymentMs: { p50: percentile(latencies, 0.5), max: Math.max(...latencies) },
    };
  } finally {
    await counter.close();
  }
}
