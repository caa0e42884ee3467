// Tracing on against off: the same create-order and get-order load at BENCH_CONNECTIONS, first on
// a system that traces every request into Jaeger (as deployed), then on one started with
// OTEL_SDK_DISABLED=true. Each system is the only one running while it is measured.
import type { TestSystem } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder } from '../context';
import { msPer } from '../cpu-meter';
import { httpLoad, type Measurement } from '../load';
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
  const rounds = async (run: () => Promise<Measurement>) => {
    await ctx.settle(system);
    await run(); // warm-up, not counted
    const rates: number[] = [];
    const cpu: Record<string, number>[] = [];
    for (let i = 0; i < ctx.options.rounds; i++) {
      const { result, usage } = await meter.measure(run);
      rates.push(result.okPerSecond);
      cpu.push(msPer(usage, result.ok));
    }
    return { rate: median(rates), cpuMs: medianByKey(cpu)['total (system)'] ?? NaN };
  };
  const create = await rounds(() =>
    httpLoad(settings, {
      url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ itemId: 'bench-tracing-item', quantity: 1 }] }),
    }),
  );
  const get = await rounds(() =>
    httpLoad(settings, { url: `${system.gatewayUrl}/v1/customers/bench-tracing/orders/${existing.id}` }),
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
