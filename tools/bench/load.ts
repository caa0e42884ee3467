// Load generators: autocannon for HTTP, a closed loop of unary calls for the bare gRPC echo, and
// one of findOne by _id through the official driver (the cost floor of every database command).
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { ECHO_SERVICE } from './ceiling-grpc.mjs';
import { median, percentile, sleep } from './stats';
import { msPer, usageBetween, type CpuMeter, type CpuReading, type CpuUsage } from './cpu-meter';
import { diffCounts, type CommandCounter, type CommandCounts } from './db-counters';

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

/** The answers that arrived in one window of a continuous run. */
export class Window {
  private readonly latencies: number[] = [];
  private ok = 0;
  private readonly failures: Record<string, number> = {};

  answer(status: number, latencyMs: number): void {
    this.latencies.push(latencyMs);
    if (status >= 200 && status < 300) this.ok += 1;
    else this.fail(String(status));
  }

  fail(kind: string): void {
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
  }

  measurement(seconds: number): Measurement {
    const failed = Object.values(this.failures).reduce((a, b) => a + b, 0);
    const answers = this.latencies.length + (this.failures.errors ?? 0);
    return {
      rps: answers / seconds,
      p50: percentile(this.latencies, 0.5),
      p90: percentile(this.latencies, 0.9),
      p99: percentile(this.latencies, 0.99),
      errors: failed,
      requests: answers,
      ok: this.ok,
      okPerSecond: this.ok / seconds,
      failures: { ...this.failures },
    };
  }
}

/** Where a running load reports each answer: the window open when it arrives. */
export interface AnswerSink {
  current: Window;
}

/** A load that runs until stopped. */
export type ContinuousLoad = (sink: AnswerSink) => { stop(): Promise<void> };

/**
 * How long a continuous run warms up: until the cost of an answer stops falling. A process fresh
 * from start runs its code in V8's interpreter and baseline tiers while the optimising compiler
 * works on background threads, and both count in its CPU: on a 2-core machine, create-order's CPU
 * per order in our services fell from 23 ms in the first 10 s of load to 7-8 ms after 70 s. The
 * steady state is what a service that runs for days costs.
 */
export interface WarmUpRule {
  /** The figure that falls while the processes warm up, e.g. our services' CPU ms per 2xx. */
  costOf(window: MeasuredWindow): number;
  /** Warm up at least this long… */
  minS: number;
  /** …and at most this long, settled or not. */
  maxS: number;
}

/** The bench's rule: the whole machine's CPU ms per 2xx, for at least `minS` and at most `maxS` seconds. */
export function machineCostSettles(options: { warmUpMinS: number; warmUpMaxS: number }): WarmUpRule {
  return {
    costOf: (w) => msPer(w.usage, w.result.ok)['total (system)']!,
    minS: options.warmUpMinS,
    maxS: options.warmUpMaxS,
  };
}

/** How a run warmed up: for how long, and what each warm-up window cost (by the rule's measure). */
export interface WarmUpSummary {
  seconds: number;
  costs: number[];
}

export interface ContinuousRun {
  windows: MeasuredWindow[];
  warmUp: WarmUpSummary;
}

/** Falling less than this counts as not falling. */
export const SETTLED_WITHIN = 0.05;
/** How many windows each side of the comparison takes the median of. */
export const SETTLED_SPAN = 3;

/**
 * Settled: the median of the last SETTLED_SPAN windows is not more than SETTLED_WITHIN below the
 * median of the SETTLED_SPAN windows before them. Comparing single windows misjudged both ways on
 * a noisy machine: a slow window between two fast ones looked settled while the services were
 * still compiling (38.6, 25.1, 25.8 ms per create, then lower), and one lucky fast window early on
 * made every later one look "not falling" (a tracing run stopped warming up at 36 ms per create,
 * and measured 23-26 ms).
 */
export function settled(costs: number[]): boolean {
  if (costs.length < 2 * SETTLED_SPAN) return false;
  const last = median(costs.slice(-SETTLED_SPAN));
  const before = median(costs.slice(-2 * SETTLED_SPAN, -SETTLED_SPAN));
  return last >= before * (1 - SETTLED_WITHIN);
}

/**
 * One continuous run: a warm-up (one window, or with a `warmUp` rule windows until the cost settles),
 * then `rounds` windows of `durationS` each, with every process's CPU read at each window's edges
 * and each answer counted in the window it arrives in.
 * Separate runs per round would start each one beside the work the previous one left in flight
 * (64 abandoned creates and their asynchronous tails, at 2 s each), whose CPU then counted against
 * answers it never produced: about half again on create-order's CPU per request here.
 * With a `counter`, the database server's commands are counted at the same edges.
 */
export async function measureWindows(
  settings: LoadSettings & { rounds: number; warmUp?: WarmUpRule },
  meter: CpuMeter,
  start: ContinuousLoad,
  counter?: CommandCounter,
): Promise<ContinuousRun> {
  const sink: AnswerSink = { current: new Window() };
  const load = start(sink);
  const windows: MeasuredWindow[] = [];
  const warmUp: WarmUpSummary = { seconds: 0, costs: [] };
  try {
    const nextWindow = async (before: CpuReading, commandsBefore?: CommandCounts) => {
      await sleep(settings.durationS * 1000);
      const after = meter.read();
      const window = sink.current;
      sink.current = new Window();
      const commandsAfter = await counter?.read();
      const usage = usageBetween(before, after);
      const measured: MeasuredWindow = {
        result: window.measurement(usage.seconds),
        usage,
        commands: commandsBefore && commandsAfter ? diffCounts(commandsBefore, commandsAfter) : undefined,
      };
      return { measured, after, commandsAfter };
    };
    let before = meter.read();
    for (;;) {
      const { measured, after } = await nextWindow(before);
      before = after;
      warmUp.seconds += measured.usage.seconds;
      const rule = settings.warmUp;
      if (!rule) break;
      warmUp.costs.push(rule.costOf(measured));
      if (warmUp.seconds >= rule.maxS) break;
      if (warmUp.seconds >= rule.minS && settled(warmUp.costs)) break;
    }
    let commandsBefore = await counter?.read();
    for (let i = 0; i < settings.rounds; i++) {
      const { measured, after, commandsAfter } = await nextWindow(before, commandsBefore);
      windows.push(measured);
      before = after;
      commandsBefore = commandsAfter;
    }
  } finally {
    await load.stop();
  }
  return { windows, warmUp };
}

/** One window of a continuous run: its answers, every process's CPU, and the database's commands. */
export interface MeasuredWindow {
  result: Measurement;
  usage: CpuUsage;
  commands?: CommandCounts;
}

/** autocannon at `connections`, until stopped. */
export function continuousHttp(connections: number, options: autocannon.Options): ContinuousLoad {
  return (sink) => {
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    // far longer than any run: measureWindows stops it
    const instance = autocannon({ connections, duration: 3600, ...options }, () => finished());
    instance.on('response', (_client: unknown, status: number, _bytes: number, latencyMs: number) =>
      sink.current.answer(status, latencyMs),
    );
    instance.on('reqError', () => sink.current.fail('errors'));
    return {
      stop: async () => {
        instance.stop();
        await done;
      },
    };
  };
}

/** What a closed loop calls, opened when the load starts and closed when it stops. */
interface LoopTarget {
  /** Resolves true for a good answer. */
  call(): Promise<boolean>;
  close(): Promise<void> | void;
  /** Set-up the loops wait for before their first call. */
  ready?: Promise<unknown>;
}

/** `connections` loops of `call` back to back, until stopped. */
function continuousLoop(connections: number, open: () => LoopTarget): ContinuousLoad {
  return (sink) => {
    const { call, close, ready } = open();
    let stopped = false;
    const worker = async () => {
      await ready;
      while (!stopped) {
        const started = performance.now();
        const good = await call().catch(() => false);
        if (good) sink.current.answer(200, performance.now() - started);
        else sink.current.fail('errors');
      }
    };
    const workers = Promise.all(Array.from({ length: connections }, worker));
    return {
      stop: async () => {
        stopped = true;
        await workers;
        await close();
      },
    };
  };
}

/** A bare grpc-js unary echo at `connections`, until stopped. */
export function continuousGrpcEcho(connections: number, target: string): ContinuousLoad {
  const Echo = makeGenericClientConstructor(ECHO_SERVICE as never, 'Echo');
  const payload = Buffer.from('x'.repeat(64));
  return continuousLoop(connections, () => {
    const client = new Echo(target, credentials.createInsecure()) as unknown as Client & {
      echo(request: Buffer, callback: (error: Error | null) => void): void;
    };
    return {
      call: () => new Promise<boolean>((done) => client.echo(payload, (error) => done(!error))),
      close: () => client.close(),
    };
  });
}

/** findOne({_id}) on one small document through the official driver at `connections`, until stopped. */
export function continuousMongoFind(connections: number, url: string): ContinuousLoad {
  return continuousLoop(connections, () => {
    const client = new MongoClient(url, { maxPoolSize: connections });
    const collection = client.db('bench_ceiling').collection<{ _id: string; n: number }>('docs');
    return {
      ready: collection.updateOne({ _id: 'one' }, { $set: { n: 1 } }, { upsert: true }),
      call: async () => (await collection.findOne({ _id: 'one' })) !== null,
      close: () => client.close(),
    };
  });
}
