// Overload: N concurrent creates (each its own customer and Idempotency-Key) against one item with
// stock S < N. Every answer is classified; then the item's stock must add up: as many units
// reserved as orders accepted, the rest available (S reserved and 0 available when N ≥ 2S).
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { stackAddresses } from '@oms/testing';
import type { BenchContext } from '../context';
import { msPer } from '../cpu-meter';
import { percentile, sleep } from '../stats';

const ANSWER_TIMEOUT_MS = 60_000;

export interface OverloadResult {
  requests: number;
  stock: number;
  accepted: number;
  outOfStock: number;
  /** Other 4xx answers by `status code`, e.g. {"409 conflict": 3}. */
  other4xx: Record<string, number>;
  /** 5xx answers by `status code`, e.g. {"504 timeout": 200}. */
  server5xx: Record<string, number>;
  /** Requests with no answer within ANSWER_TIMEOUT_MS, or a transport error. */
  noAnswer: number;
  latencyMs: { p50: number; slowest: number };
  stockAfter: { available: number | null; held: number; committed: number; reserved: number };
  /** reserved = accepted and reserved + available = stock. */
  addsUp: boolean;
  /** The database server answered a ping right after (and how long it took). */
  databasePingMs: number | null;
  /** CPU ms per request (all answers) per process during the burst. */
  cpuMsPerRequest: Record<string, number>;
}

type Outcome = {
  kind: 'accepted' | 'outOfStock' | 'other4xx' | '5xx' | 'noAnswer';
  key?: string;
  ms: number;
};

export async function overload(ctx: BenchContext): Promise<OverloadResult> {
  const system = await ctx.system();
  const { overloadRequests: requests, overloadStock: stock } = ctx.options;
  const run = randomBytes(3).toString('hex');
  const item = `bench-overload-${run}`;
  await system.addItem(item, stock);
  await ctx.settle(system);
  const meter = await ctx.meter(system);

  const body = JSON.stringify({ items: [{ itemId: item, quantity: 1 }] });
  const one = async (i: number): Promise<Outcome> => {
    const started = performance.now();
    try {
      const response = await fetch(`${system.gatewayUrl}/v1/customers/overload-${run}-${i}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `overload-${run}-${i}` },
        body,
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      let code = '';
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
      } catch {
        code = 'not-json';
      }
      const key = `${response.status} ${code}`.trim();
      if (response.status === 201) return { kind: 'accepted', ms };
      if (response.status === 409 && code === 'out_of_stock') return { kind: 'outOfStock', ms };
      if (response.status >= 500) return { kind: '5xx', key, ms };
      return { kind: 'other4xx', key, ms };
    } catch (error) {
      return { kind: 'noAnswer', key: (error as Error).name, ms: performance.now() - started };
    }
  };
  const { result: outcomes, usage } = await meter.measure(() =>
    Promise.all(Array.from({ length: requests }, (_, i) => one(i))),
  );

  const tally = (kind: Outcome['kind']) => {
    const counts: Record<string, number> = {};
    for (const o of outcomes.filter((x) => x.kind === kind)) counts[o.key!] = (counts[o.key!] ?? 0) + 1;
    return counts;
  };
  const count = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  const answered = outcomes.filter((o) => o.kind !== 'noAnswer').map((o) => o.ms);

  const databasePingMs = await pingDatabase();
  // Let compensations and in-flight work finish before reading the stock.
  await sleep(2_000);
  const available = await system.available(item);
  const { held, committed } = await system.stockOf(item);
  const reserved = Number(held) + Number(committed);
  const accepted = count('accepted');
  return {
    requests,
    stock,
    accepted,
    outOfStock: count('outOfStock'),
    other4xx: tally('other4xx'),
    server5xx: tally('5xx'),
    noAnswer: count('noAnswer'),
    latencyMs: {
      p50: percentile(answered, 0.5),
      slowest: answered.length > 0 ? Math.max(...answered) : NaN,
    },
    stockAfter: { available, held: Number(held), committed: Number(committed), reserved },
    addsUp: reserved === accepted && available !== null && reserved + available === stock,
    databasePingMs,
    cpuMsPerRequest: msPer(usage, requests),
  };
}

async function pingDatabase(): Promise<number | null> {
  const client = new MongoClient((await stackAddresses()).MONGO_URL!, { serverSelectionTimeoutMS: 10_000 });
  const started = performance.now();
  try {
    await client.db('admin').command({ ping: 1 }, { timeoutMS: 10_000 });
    return performance.now() - started;
  } catch {
    return null;
  } finally {
    await client.close().catch(() => {});
  }
}
