// Tracing on against off: the same create-order and get-order load at BENCH_CONNECTIONS, first on
// a system that traces every request into Jaeger (as deployed), then on one started with
// OTEL_SDK_DISABLED=true. Each system is the only one running while it is measured.
import type { TestSystem } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder } from '../context';
import { msPer } from '../cpu-meter';
import { continuousHttp, measureWindows, type ContinuousLoad } from '../load';
import { median, medianByKey } from '../stats';

export interface TracingFigures {
  createPerSecond: number;
  getPerSecond: number;
  /** CPU ms per 2xx answer, whole system, medians over rounds. */
  createCpuMs: number;
  getCpuMs: number;
}

export interface TracingResult {
  on: TracingFigures;
  off: TracingFigures;
  /** 1 − on ÷ off, per request kind: the share of throughput tracing costs. */
  throughputCost: { create: number; get: number };
}

async function measure(ctx: BenchContext, system: TestSystem): Promise<TracingFigures> {
  const settings = { connections: ctx.options.connections, durationS: ctx.options.durationS };
  await system.addItem('bench-tracing-item', 1_000_000_000);
  const existing = await createOrder(system, 'bench-tracing', 'bench-tracing-item');
  const meter = await ctx.meter(system);
  const rounds = async (load: ContinuousLoad) => {
    await ctx.settle(system);
    const windows = await measureWindows({ ...settings, rounds: ctx.options.rounds }, meter, load);
    return {
      rate: median(windows.map((w) => w.result.okPerSecond)),
      cpuMs: medianByKey(windows.map((w) => msPer(w.usage, w.result.ok)))['total (system)'] ?? NaN,
    };
  };
  const create = await rounds(
    continuousHttp(settings.connections, {
      url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ itemId: 'bench-tracing-item', quantity: 1 }] }),
    }),
  );
  const get = await rounds(
    continuousHttp(settings.connections, {
      url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders/${existing.id}`,
    }),
  );
  return {
    createPerSecond: create.rate,
    getPerSecond: get.rate,
    createCpuMs: create.cpuMs,
    getCpuMs: get.cpuMs,
  };
}

export async function tracing(ctx: BenchContext): Promise<TracingResult> {
  await ctx.releaseSystem();
  const figures: Partial<Record<'on' | 'off', TracingFigures>> = {};
  for (const mode of ['on', 'off'] as const) {
    const system = await ctx.startSystem({
      prefix: `bench-trace-${mode}`,
      env: mode === 'off' ? { OTEL_SDK_DISABLED: 'true' } : {},
    });
    try {
      figures[mode] = await measure(ctx, system);
    } finally {
      await system.stop();
    }
    const f = figures[mode]!;
    console.log(
      `  tracing ${mode}: create ${f.createPerSecond.toFixed(1)}/s (${f.createCpuMs.toFixed(1)} ms CPU), ` +
        `get ${f.getPerSecond.toFixed(0)}/s (${f.getCpuMs.toFixed(2)} ms CPU)`,
    );
  }
  const on = figures.on!;
  const off = figures.off!;
  return {
    on,
    off,
    throughputCost: {
      create: off.createPerSecond > 0 ? 1 - on.createPerSecond / off.createPerSecond : NaN,
      get: off.getPerSecond > 0 ? 1 - on.getPerSecond / off.getPerSecond : NaN,
    },
  };
}
