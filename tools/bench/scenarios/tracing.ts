// Tracing on against off: the same create-order and get-order load at BENCH_CONNECTIONS on a system
// that traces every request into Jaeger (as deployed) and on one started with
// OTEL_SDK_DISABLED=true. Both run side by side. Each is first warmed up with each kind of load
// until its cost settles (the throughput scenario's rule), so that the two compare as services
// that have been running, not as two JIT compilers at work. Then the load alternates between them
// (on, off, off, on, …: RESUME_WARM_UP_S of load, then a measured window each time), so that
// whatever drifts on the machine meanwhile (the database's background work after the scenarios
// before, say) falls on both alike. Only one of them is loaded at a time. The cost is taken round
// by round, from the two windows that ran next to each other, and the median of those is the
// figure: on these machines throughput drifts by a third within minutes, and a ratio of the two
// systems' medians compared windows that ran minutes apart.
import type { TestSystem } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder } from '../context';
import { msPer, type CpuMeter } from '../cpu-meter';
import {
  continuousHttp,
  machineCostSettles,
  measureWindows,
  type ContinuousLoad,
  type WarmUpSummary,
} from '../load';
import { median } from '../stats';

export interface TracingFigures {
  createPerSecond: number;
  getPerSecond: number;
  /** CPU ms per 2xx answer, whole system, medians over rounds. */
  createCpuMs: number;
  getCpuMs: number;
  /** The same per process (ours and the stack's), medians over rounds: where tracing's cost lands. */
  createCpuMsByProcess: Record<string, number>;
  getCpuMsByProcess: Record<string, number>;
}

/** One round of the alternation: a measured window of each system, next to each other in time. */
export interface TracingRound {
  /** Which system ran first. */
  first: Mode;
  /** 2xx answers per second of each system's window. */
  rate: Record<Mode, number>;
  /** The whole system's CPU ms per 2xx of each system's window. */
  cpuMs: Record<Mode, number>;
  /** 1 − on ÷ off of this round's two rates. */
  cost: number;
}

export interface TracingResult {
  /** Measured windows per request kind and per system. */
  windowsPerMode: number;
  on: TracingFigures;
  off: TracingFigures;
  /** The share of throughput tracing costs, per request kind: the median of the rounds' costs. */
  throughputCost: { create: number; get: number };
  /** How long each turn loaded a system before its measured window (runs before 2026-12-02: one window). */
  resumeWarmUpS?: number;
  /** Every round, per request kind, in the order they ran (not kept by runs before 2026-12-02). */
  rounds?: { create: TracingRound[]; get: TracingRound[] };
  /** How each system warmed up with each kind of load before the alternation. */
  warmUp: { create: Record<Mode, WarmUpSummary>; get: Record<Mode, WarmUpSummary> };
}

export type Mode = 'on' | 'off';

interface Deployed {
  system: TestSystem;
  meter: CpuMeter;
  createLoad: ContinuousLoad;
  getLoad: ContinuousLoad;
}

/**
 * How long each turn of the alternation loads a system before its measured window. A system that
 * sat idle for 45 s paid 1.3-1.9× its steady CPU per create in the first two 5-s windows of load,
 * traced or not (scratch runs of two systems side by side on this project's 2-core VMs), and
 * the steady cost from the third on: one 5-s window before the measured one left the measured
 * windows of both systems in that ramp, and the cost of tracing in its noise.
 */
const RESUME_WARM_UP_S = 15;

/** 1 − on ÷ off: the share of throughput tracing cost in one round. */
export const roundCost = (rate: Record<Mode, number>): number =>
  rate.off > 0 ? 1 - rate.on / rate.off : NaN;

/** The cost of tracing over a run: the median of its rounds' costs. */
export const pairedCost = (rounds: readonly Pick<TracingRound, 'cost'>[]): number =>
  median(rounds.map((r) => r.cost));

async function deploy(ctx: BenchContext, mode: Mode): Promise<Deployed> {
  const system = await ctx.startSystem({
    prefix: `bench-trace-${mode}`,
    env: mode === 'off' ? { OTEL_SDK_DISABLED: 'true' } : {},
  });
  const { connections } = ctx.options;
  await system.addItem('bench-tracing-item', 1_000_000_000);
  const existing = await createOrder(system, 'bench-tracing', 'bench-tracing-item');
  return {
    system,
    meter: await ctx.meter(system),
    createLoad: continuousHttp(connections, {
      url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ itemId: 'bench-tracing-item', quantity: 1 }] }),
    }),
    getLoad: continuousHttp(connections, {
      url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders/${existing.id}`,
    }),
  };
}

export async function tracing(ctx: BenchContext): Promise<TracingResult> {
  await ctx.releaseSystem();
  const deployed: Record<Mode, Deployed> = { on: await deploy(ctx, 'on'), off: await deploy(ctx, 'off') };
  try {
    const settings = { connections: ctx.options.connections, durationS: ctx.options.durationS, rounds: 1 };
    const warmUp = machineCostSettles(ctx.options);
    // Each turn of the alternation loads a system that sat idle while the other one ran.
    const resume = { ...warmUp, minS: RESUME_WARM_UP_S, maxS: RESUME_WARM_UP_S };
    const settleBoth = async () => {
      await ctx.settle(deployed.on.system);
      await ctx.settle(deployed.off.system);
    };
    const alternate = async (load: (d: Deployed) => ContinuousLoad) => {
      const warm = async (d: Deployed) => {
        await settleBoth();
        return (await measureWindows({ ...settings, rounds: 0, warmUp }, d.meter, load(d))).warmUp;
      };
      const warmedUp: Record<Mode, WarmUpSummary> = {
        on: await warm(deployed.on),
        off: await warm(deployed.off),
      };
      const windows: Record<Mode, { rate: number; cpuMs: Record<string, number> }[]> = { on: [], off: [] };
      const rounds: TracingRound[] = [];
      for (let round = 0; round < ctx.options.tracingRounds; round++) {
        const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
        for (const mode of order) {
          const d = deployed[mode];
          await settleBoth();
          const [window] = (await measureWindows({ ...settings, warmUp: resume }, d.meter, load(d))).windows;
          windows[mode].push({
            rate: window!.result.okPerSecond,
            cpuMs: msPer(window!.usage, window!.result.ok),
          });
        }
        const on = windows.on.at(-1)!;
        const off = windows.off.at(-1)!;
        const rate = { on: on.rate, off: off.rate };
        rounds.push({
          first: order[0],
          rate,
          cpuMs: { on: on.cpuMs['total (system)'] ?? NaN, off: off.cpuMs['total (system)'] ?? NaN },
          cost: roundCost(rate),
        });
      }
      return { windows, rounds, warmedUp };
    };
    const {
      windows: create,
      rounds: createRounds,
      warmedUp: createWarmUp,
    } = await alternate((d) => d.createLoad);
    const { windows: get, rounds: getRounds, warmedUp: getWarmUp } = await alternate((d) => d.getLoad);
    const byProcess = (windows: { cpuMs: Record<string, number> }[]) =>
      Object.fromEntries(
        Object.keys(windows[0]?.cpuMs ?? {}).map((label) => [
          label,
          median(windows.map((w) => w.cpuMs[label] ?? NaN)),
        ]),
      );
    const figuresOf = (mode: Mode): TracingFigures => {
      const createCpuMsByProcess = byProcess(create[mode]);
      const getCpuMsByProcess = byProcess(get[mode]);
      return {
        createPerSecond: median(create[mode].map((w) => w.rate)),
        createCpuMs: createCpuMsByProcess['total (system)'] ?? NaN,
        getPerSecond: median(get[mode].map((w) => w.rate)),
        getCpuMs: getCpuMsByProcess['total (system)'] ?? NaN,
        createCpuMsByProcess,
        getCpuMsByProcess,
      };
    };
    const on = figuresOf('on');
    const off = figuresOf('off');
    for (const [mode, f] of [
      ['on', on],
      ['off', off],
    ] as const) {
      console.log(
        `  tracing ${mode}: create ${f.createPerSecond.toFixed(1)}/s (${f.createCpuMs.toFixed(1)} ms CPU), ` +
          `get ${f.getPerSecond.toFixed(0)}/s (${f.getCpuMs.toFixed(2)} ms CPU)`,
      );
    }
    return {
      windowsPerMode: ctx.options.tracingRounds,
      on,
      off,
      throughputCost: { create: pairedCost(createRounds), get: pairedCost(getRounds) },
      resumeWarmUpS: RESUME_WARM_UP_S,
      rounds: { create: createRounds, get: getRounds },
      warmUp: { create: createWarmUp, get: getWarmUp },
    };
  } finally {
    await Promise.all([deployed.on.system.stop(), deployed.off.system.stop()]);
  }
}
