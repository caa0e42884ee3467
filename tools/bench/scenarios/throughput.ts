// Throughput at BENCH_CONNECTIONS: ceilings measured in the same run on the same machine (a bare
// Fastify handler, a bare grpc-js echo, a driver findOne, and get-order through the same libraries
// with nothing of ours), then create-order and get-order through the gateway. Each is one
// continuous run: a warm-up until the CPU per 2xx stops falling (the JIT compilers' work: see WarmUpRule), then BENCH_ROUNDS windows; around every window, the CPU time
// of each process of the system, divided by the 2xx answers of that window.
import type { BenchContext } from '../context';
import { createOrder } from '../context';
import { msPer } from '../cpu-meter';
import { startCeiling, type Ceiling } from '../ceilings';
import {
  continuousGrpcEcho,
  continuousHttp,
  continuousMongoFind,
  machineCostSettles,
  measureWindows,
  type ContinuousLoad,
  type Measurement,
  type WarmUpSummary,
} from '../load';
import { deploymentDatabase, stackAddresses } from '@oms/testing';
import { openCommandCounter, totalOf } from '../db-counters';
import { residentMb } from '../proc';
import { median, medianByKey } from '../stats';

export interface ScenarioFigures extends Measurement {
  rounds: Measurement[];
  /** CPU ms per 2xx answer per process, median over rounds. */
  cpuMsPerRequest: Record<string, number>;
  /** The database server's commands per 2xx answer (every client's), median over rounds. */
  dbCommandsPerRequest?: number;
  /** How long the load ran before the windows, and the machine's CPU ms per 2xx meanwhile. */
  warmUp: WarmUpSummary;
}

export interface ThroughputResult {
  scenarios: Record<string, ScenarioFigures>;
  ratios: Record<string, number>;
  /** Resident memory of each service after the runs, MB. */
  residentMemoryMb: Record<string, number>;
}

export const CREATE = 'create order (POST)';
export const GET = 'get order (GET)';
const CEILING_HTTP = 'ceiling: bare Fastify handler';
const CEILING_GRPC = 'ceiling: bare grpc-js unary echo';
/** One database command as the services send it: its CPU in the driver (the load generator) and the server. */
const CEILING_DB = 'ceiling: driver findOne by _id';
/** Get-order's path (HTTP → gRPC → findOne of the same order) in Fastify, grpc-js and the driver alone. */
export const CEILING_GET = 'ceiling: get order, libraries only';
const CEILING_GET_HTTP = 'ceiling (get: Fastify)';
const CEILING_GET_GRPC = 'ceiling (get: grpc-js)';
/** The ceiling's two processes, as the CPU table names them. */
export const CEILING_GET_PROCESSES: readonly string[] = [CEILING_GET_HTTP, CEILING_GET_GRPC];

/** CPU ms per 2xx of `scenario`, summed over the processes `labels` name (median of windows each). */
export const cpuMsOf = (scenario: ScenarioFigures, labels: readonly string[]): number =>
  labels.reduce((sum, label) => sum + (scenario.cpuMsPerRequest[label] ?? 0), 0);

function medianOf(
  rounds: Measurement[],
  cpu: Record<string, number>[],
  commands: (number | undefined)[],
  warmUp: WarmUpSummary,
): ScenarioFigures {
  const pick = (key: Exclude<keyof Measurement, 'failures'>) => median(rounds.map((r) => r[key]));
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p90: pick('p90'),
    p99: pick('p99'),
    errors: pick('errors'),
    requests: pick('requests'),
    ok: pick('ok'),
    okPerSecond: pick('okPerSecond'),
    failures: medianByKey(rounds.map((r) => r.failures)),
    rounds,
    cpuMsPerRequest: medianByKey(cpu),
    dbCommandsPerRequest: commands.every((c) => c !== undefined) ? median(commands) : undefined,
    warmUp,
  };
}

export async function throughput(ctx: BenchContext): Promise<ThroughputResult> {
  const settings = { connections: ctx.options.connections, durationS: ctx.options.durationS };
  const system = await ctx.system();
  const httpCeiling = await startCeiling('ceiling-http.mjs');
  const grpcCeiling = await startCeiling('ceiling-grpc.mjs');
  let getServer: Ceiling | undefined;
  let getGateway: Ceiling | undefined;
  const infra = await ctx.infrastructure();
  const counter = await openCommandCounter({
    mongoUrl: (await stackAddresses()).MONGO_URL!,
    server: infra.databaseServer,
    debugAddress: infra.ferretDebugAddress,
  });
  try {
    await system.addItem('bench-item', 1_000_000_000);
    const mongoUrl = (await stackAddresses()).MONGO_URL!;
    const createBody = JSON.stringify({ items: [{ itemId: 'bench-item', quantity: 1 }] });
    const existing = await createOrder(system, 'bench', 'bench-item');
    getServer = await startCeiling('ceiling-get-order.ts', [
      'server',
      mongoUrl,
      deploymentDatabase('order', system.deployment),
    ]);
    getGateway = await startCeiling('ceiling-get-order.ts', ['gateway', getServer.info.target!]);
    const meter = await ctx.meter(system, [
      { label: 'ceiling (Fastify)', kind: 'ceiling', pid: httpCeiling.child.pid!, tree: false },
      { label: 'ceiling (grpc-js)', kind: 'ceiling', pid: grpcCeiling.child.pid!, tree: false },
      { label: CEILING_GET_HTTP, kind: 'ceiling', pid: getGateway.child.pid!, tree: false },
      { label: CEILING_GET_GRPC, kind: 'ceiling', pid: getServer.child.pid!, tree: false },
    ]);

    const { connections } = settings;
    const runs: Record<string, ContinuousLoad> = {
      [CEILING_HTTP]: continuousHttp(connections, { url: httpCeiling.info.url! }),
      [CEILING_GRPC]: continuousGrpcEcho(connections, grpcCeiling.info.target!),
      [CEILING_DB]: continuousMongoFind(connections, mongoUrl),
      [CEILING_GET]: continuousHttp(connections, {
        url: `${getGateway.info.url}/v1/customers/bench/orders/${existing.id}`,
      }),
      [CREATE]: continuousHttp(connections, {
        url: `${system.gatewayUrl}/v1/customers/bench/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: createBody,
      }),
      [GET]: continuousHttp(connections, {
        url: `${system.gatewayUrl}/v1/customers/bench/orders/${existing.id}`,
      }),
    };
    const scenarios: Record<string, ScenarioFigures> = {};
    const warmUp = machineCostSettles(ctx.options);
    for (const [name, load] of Object.entries(runs)) {
      await ctx.settle(system);
      const { windows, warmUp: warmedUp } = await measureWindows(
        { ...settings, rounds: ctx.options.rounds, warmUp },
        meter,
        load,
        counter,
      );
      scenarios[name] = medianOf(
        windows.map((w) => w.result),
        windows.map((w) => msPer(w.usage, w.result.ok)),
        windows.map((w) => (w.commands ? totalOf(w.commands) / Math.max(w.result.ok, 1) : undefined)),
        warmedUp,
      );
      const s = scenarios[name]!;
      console.log(
        `  ${name}: ${s.okPerSecond.toFixed(0)} 2xx/s (${s.rps.toFixed(0)} answers/s), p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ` +
          `${s.cpuMsPerRequest['total (system)']!.toFixed(2)} ms CPU per request`,
      );
    }
    const ceilingHttp = scenarios[CEILING_HTTP]!.okPerSecond;
    const ceilingGrpc = scenarios[CEILING_GRPC]!.okPerSecond;
    return {
      scenarios,
      ratios: {
        createOrderVsHttpCeiling: scenarios[CREATE]!.okPerSecond / ceilingHttp,
        createOrderVsGrpcCeiling: scenarios[CREATE]!.okPerSecond / ceilingGrpc,
        getOrderVsHttpCeiling: scenarios[GET]!.okPerSecond / ceilingHttp,
        getOrderVsLibrariesOnly: scenarios[GET]!.okPerSecond / scenarios[CEILING_GET]!.okPerSecond,
      },
      residentMemoryMb: Object.fromEntries(system.instances.map((i) => [i.name, residentMb(i.pid)])),
    };
  } finally {
    httpCeiling.stop();
    grpcCeiling.stop();
    getServer?.stop();
    getGateway?.stop();
    await counter.close();
  }
}
