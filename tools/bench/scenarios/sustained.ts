// Goodput under sustained overload: creates from BENCH_CONNECTIONS clients, then from
// BENCH_OVERLOAD_CONNECTIONS clients, for BENCH_SUSTAINED_SECONDS each. Clients behave as HTTP
// clients should: one request at a time each, and after a 503 or 429 they wait what
// `retry-after` says, plus jitter, before the next; they arrive spread over half a second. (A
// closed loop that ignores retry-after turns every refusal into another request at once, and
// clients in lockstep meet a burst a second: both measure the load generator as much as the
// system.)
// The clients run on a thread of their own at a raised priority (sustained-clients.ts). Their
// ceiling is measured in the same run: the same clients against a bare Fastify handler that
// refuses every request, which is the fastest refusal this machine and this client can see.
// Then, BENCH_RECOVERY_SECONDS after the load stops, a few creates must be served normally.
import type { BenchContext } from '../context';
import { startCeiling } from '../ceilings';
import { msPer } from '../cpu-meter';
import { sleep } from '../stats';
import { driveOnGeneratorThread, postCreate } from './sustained-clients';

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
  /** The generator thread's nice value, or why it kept the default. */
  generatorPriority: number | string;
}

/** The same clients against a bare handler that refuses everything. */
export interface RefusalCeiling {
  connections: number;
  refusals: number;
  p99RefusedMs: number;
  generatorLagP99Ms: number;
}

export interface SustainedResult {
  /** Measured first, on the quiet machine. */
  refusalCeiling: RefusalCeiling;
  normal: SustainedPhase;
  overload: SustainedPhase;
  /** overload goodput ÷ normal goodput. */
  goodputRatio: number;
  recovery: { afterS: number; statuses: number[]; servedNormally: boolean };
}

const ITEM = 'bench-sustained-item';

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
    const { result, usage } = await meter.measure(() =>
      driveOnGeneratorThread({ url, body, connections: clients, durationS: sustainedS }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const figures: SustainedPhase = {
      ...result,
      createdPerSecond: result.created / elapsedS,
      cpuMsPerCreated: msPer(usage, result.created),
    };
    console.log(
      `  ${clients} clients: ${figures.createdPerSecond.toFixed(1)} created/s, answers ${JSON.stringify(figures.answers)}, ` +
        `p99 created ${figures.p99CreatedMs.toFixed(0)} ms, p99 refused ${figures.p99RefusedMs.toFixed(0)} ms, ` +
        `load generator's event-loop lag p99 ${figures.generatorLagP99Ms.toFixed(0)} ms (nice ${figures.generatorPriority})`,
    );
    for (const [message, { count, p99Ms }] of Object.entries(figures.refusalsByMessage))
      console.log(`    refused ${count} × "${message}", p99 ${p99Ms.toFixed(0)} ms`);
    return figures;
  };

  const refusalCeiling = await measureRefusalCeiling(body, overloadConnections, sustainedS);
  console.log(
    `  ceiling, a bare handler refusing ${overloadConnections} clients: p99 refused ${refusalCeiling.p99RefusedMs.toFixed(0)} ms ` +
      `(${refusalCeiling.refusals} refusals; load generator's event-loop lag p99 ${refusalCeiling.generatorLagP99Ms.toFixed(0)} ms)`,
  );
  const normal = await phase(connections);
  const overload = await phase(overloadConnections);
  await sleep(recoveryS * 1000);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    statuses.push((await postCreate(url, body)).response.status);
  }
  return {
    refusalCeiling,
    normal,
    overload,
    goodputRatio: normal.createdPerSecond > 0 ? overload.createdPerSecond / normal.createdPerSecond : 0,
    recovery: { afterS: recoveryS, statuses, servedNormally: statuses.every((s) => s === 201) },
  };
}

async function measureRefusalCeiling(
  body: string,
  connections: number,
  durationS: number,
): Promise<RefusalCeiling> {
  const ceiling = await startCeiling('ceiling-http.mjs');
  try {
    const url = ceiling.info.url!.replace(/\/ceiling$/, '/refuse');
    const phase = await driveOnGeneratorThread({ url, body, connections, durationS });
    return {
      connections,
      refusals: phase.answers['503'] ?? 0,
      p99RefusedMs: phase.p99RefusedMs,
      generatorLagP99Ms: phase.generatorLagP99Ms,
    };
  } finally {
    ceiling.stop();
  }
}
