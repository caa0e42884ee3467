// Goodput under sustained overload: creates from BENCH_CONNECTIONS clients, then from
// BENCH_OVERLOAD_CONNECTIONS clients, for BENCH_SUSTAINED_SECONDS each. Clients behave as HTTP
// clients should: one request at a time each, and after a 503 or 429 they wait what
// `retry-after` says before the next. (A closed loop that ignores retry-after turns every refusal
// into another request at once, and measures the load generator as much as the system.)
// Then, BENCH_RECOVERY_SECONDS after the load stops, a few creates must be served normally.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchContext } from '../context';
import { msPer } from '../cpu-meter';
import { percentile, sleep } from '../stats';

export interface SustainedPhase {
  connections: number;
  durationS: number;
  created: number;
  createdPerSecond: number;
  /** Answers by status (201 included), plus `error` for transport failures. */
  answers: Record<string, number>;
  /** 503/429 answers that carried no retry-after. */
  refusalsWithoutRetryAfter: number;
  p99CreatedMs: number;
  p99RefusedMs: number;
  /** Refusals by the error message they carried: where they came from, and how slowly. */
  refusalsByMessage: Record<string, { count: number; p99Ms: number }>;
  /** CPU ms per created order per process. */
  cpuMsPerCreated: Record<string, number>;
  /** The load generator's own event-loop delay, p99 ms: time its answers waited to be seen. */
  generatorLagP99Ms: number;
}

export interface SustainedResult {
  normal: SustainedPhase;
  overload: SustainedPhase;
  /** overload goodput ÷ normal goodput. */
  goodputRatio: number;
  recovery: { afterS: number; statuses: number[]; servedNormally: boolean };
}

const ITEM = 'bench-sustained-item';

/** One create, its body read to the end; the answer's status and headers, and its body. */
async function postCreate(url: string, body: string): Promise<{ response: Response; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { response, text: await response.text() };
}

function errorMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : 'no error message';
  } catch {
    return 'not JSON';
  }
}

async function drive(
  url: string,
  body: string,
  connections: number,
  durationS: number,
): Promise<Omit<SustainedPhase, 'cpuMsPerCreated' | 'createdPerSecond' | 'generatorLagP99Ms'>> {
  const answers: Record<string, number> = {};
  const created: number[] = [];
  const refused: number[] = [];
  const refusedBy: Record<string, number[]> = {};
  let refusalsWithoutRetryAfter = 0;
  const deadline = Date.now() + durationS * 1000;
  const client = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      let status = 'error';
      let waitS = 0;
      try {
        const { response, text } = await postCreate(url, body);
        status = String(response.status);
        const ms = performance.now() - started;
        if (response.status === 201) created.push(ms);
        if (response.status === 503 || response.status === 429) {
          refused.push(ms);
          (refusedBy[errorMessage(text)] ??= []).push(ms);
          const retryAfter = Number(response.headers.get('retry-after'));
          if (!(retryAfter > 0)) refusalsWithoutRetryAfter += 1;
          waitS = retryAfter > 0 ? retryAfter : 1;
        }
      } catch {
        waitS = 1;
      }
      answers[status] = (answers[status] ?? 0) + 1;
      if (waitS > 0) await sleep(Math.min(waitS * 1000, Math.max(0, deadline - Date.now())));
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return {
    connections,
    durationS,
    created: created.length,
    answers,
    refusalsWithoutRetryAfter,
    p99CreatedMs: percentile(created, 0.99),
    p99RefusedMs: percentile(refused, 0.99),
    refusalsByMessage: Object.fromEntries(
      Object.entries(refusedBy).map(([message, ms]) => [
        message,
        { count: ms.length, p99Ms: percentile(ms, 0.99) },
      ]),
    ),
  };
}

export async function sustained(ctx: BenchContext): Promise<SustainedResult> {
  const system = await ctx.system();
  await system.addItem(ITEM, 1_000_000_000);
  const url = `${system.gatewayUrl}/v1/customers/bench-sustained/orders`;
  const body = JSON.stringify({ items: [{ itemId: ITEM, quantity: 1 }] });
  const { connections, overloadConnections, sustainedS, recoveryS } = ctx.options;

  const phase = async (clients: number): Promise<SustainedPhase> => {
    await ctx.settle(system);
    const meter = await ctx.meter(system);
    // Wall time, not the nominal duration: the last answers arrive after the deadline.
    const started = performance.now();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const { result, usage } = await meter.measure(() => drive(url, body, clients, sustainedS));
    lag.disable();
    const elapsedS = (performance.now() - started) / 1000;
    const figures: SustainedPhase = {
      ...result,
      createdPerSecond: result.created / elapsedS,
      cpuMsPerCreated: msPer(usage, result.created),
      generatorLagP99Ms: lag.percentile(99) / 1e6,
    };
    console.log(
      `  ${clients} clients: ${figures.createdPerSecond.toFixed(1)} created/s, answers ${JSON.stringify(figures.answers)}, ` +
        `p99 created ${figures.p99CreatedMs.toFixed(0)} ms, p99 refused ${figures.p99RefusedMs.toFixed(0)} ms, ` +
        `load generator's event-loop lag p99 ${figures.generatorLagP99Ms.toFixed(0)} ms`,
    );
    for (const [message, { count, p99Ms }] of Object.entries(figures.refusalsByMessage))
      console.log(`    refused ${count} × "${message}", p99 ${p99Ms.toFixed(0)} ms`);
    return figures;
  };

  const normal = await phase(connections);
  const overload = await phase(overloadConnections);
  await sleep(recoveryS * 1000);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    statuses.push((await postCreate(url, body)).response.status);
  }
  return {
    normal,
    overload,
    goodputRatio: normal.createdPerSecond > 0 ? overload.createdPerSecond / normal.createdPerSecond : 0,
    recovery: { afterS: recoveryS, statuses, servedNormally: statuses.every((s) => s === 201) },
  };
}
