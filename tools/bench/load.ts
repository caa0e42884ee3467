// Load generators: autocannon for HTTP, a closed loop of unary calls for the bare gRPC echo, and
// one of findOne by _id through the official driver (the cost floor of every database command).
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { ECHO_SERVICE } from './ceiling-grpc.mjs';
import { percentile } from './stats';

export interface Measurement {
  /** Requests per second (all answers). */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** Transport errors, timeouts and non-2xx answers. */
  errors: number;
  requests: number;
  /** 2xx answers: what CPU per request is divided by. */
  ok: number;
  /** 2xx answers per second: the throughput that counts. */
  okPerSecond: number;
  /** Answers by HTTP status (non-2xx only), plus transport errors and timeouts. */
  failures: Record<string, number>;
}

export interface LoadSettings {
  connections: number;
  durationS: number;
}

export async function httpLoad(settings: LoadSettings, options: autocannon.Options): Promise<Measurement> {
  const result = await autocannon({
    connections: settings.connections,
    duration: settings.durationS,
    ...options,
  });
  const failures: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {}))
    if (!status.startsWith('2') && stats?.count) failures[status] = stats.count;
  if (result.errors > 0) failures.errors = result.errors;
  if (result.timeouts > 0) failures.timeouts = result.timeouts;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
    ok: result['2xx'],
    okPerSecond: result['2xx'] / result.duration,
    failures,
  };
}

/**
 * `connections` loops calling `call` back to back for `durationS` seconds. `call` resolves true
 * for a good answer; a false or a throw counts as an error.
 */
async function closedLoop(settings: LoadSettings, call: () => Promise<boolean>): Promise<Measurement> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + settings.durationS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const good = await call().catch(() => false);
      if (!good) errors += 1;
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: settings.connections }, worker));
  return {
    rps: latencies.length / settings.durationS,
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    p99: percentile(latencies, 0.99),
    errors,
    requests: latencies.length,
    ok: latencies.length - errors,
    okPerSecond: (latencies.length - errors) / settings.durationS,
    failures: errors > 0 ? { errors } : {},
  };
}

export async function grpcEchoLoad(settings: LoadSettings, target: string): Promise<Measurement> {
  const Echo = makeGenericClientConstructor(ECHO_SERVICE as never, 'Echo');
  const client = new Echo(target, credentials.createInsecure()) as unknown as Client & {
    echo(request: Buffer, callback: (error: Error | null) => void): void;
  };
  const payload = Buffer.from('x'.repeat(64));
  try {
    return await closedLoop(
      settings,
      () => new Promise<boolean>((done) => client.echo(payload, (error) => done(!error))),
    );
  } finally {
    client.close();
  }
}

/** `connections` concurrent loops of findOne({_id}) on one small document, in the bench process. */
export async function mongoFindLoad(settings: LoadSettings, url: string): Promise<Measurement> {
  const client = new MongoClient(url, { maxPoolSize: settings.connections });
  try {
    const collection = client.db('bench_ceiling').collection<{ _id: string; n: number }>('docs');
    await collection.updateOne({ _id: 'one' }, { $set: { n: 1 } }, { upsert: true });
    return await closedLoop(settings, async () => (await collection.findOne({ _id: 'one' })) !== null);
  } finally {
    await client.close();
  }
}
