// `npm run bench`: drives the running system with autocannon and compares it with two ceilings
// measured in the same run on the same machine (a bare Fastify handler, a bare grpc-js echo).
// Each scenario runs ROUNDS times; the report quotes medians. Writes bench-results/latest.{json,md}.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { ensureStack, signedCheckoutEvent, TestSystem, waitFor } from '@oms/testing';
import { ECHO_SERVICE } from './ceiling-grpc.mjs';

const ROOT = resolve(__dirname, '../..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Measurement {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  requests: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function medianOf(rounds: Measurement[]): Measurement & { rounds: Measurement[] } {
  const pick = (key: keyof Measurement) => median(rounds.map((r) => r[key]));
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p90: pick('p90'),
    p99: pick('p99'),
    errors: pick('errors'),
    requests: pick('requests'),
    rounds,
  };
}

async function http(options: autocannon.Options): Promise<Measurement> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION_S, ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

async function grpcEcho(target: string): Promise<Measurement> {
  const Echo = makeGenericClientConstructor(ECHO_SERVICE as never, 'Echo');
  const client = new Echo(target, credentials.createInsecure()) as unknown as Client & {
    echo(request: Buffer, callback: (error: Error | null) => void): void;
  };
  const payload = Buffer.from('x'.repeat(64));
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + DURATION_S * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      await new Promise<void>((done) => client.echo(payload, (error) => ((errors += error ? 1 : 0), done())));
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  client.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    rps: latencies.length / DURATION_S,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    errors,
    requests: latencies.length,
  };
}

const LIFECYCLE_ORDERS = Number(process.env.BENCH_LIFECYCLE_ORDERS ?? 200);
const LIFECYCLE_PREP_MS = 100;

interface LifecycleOrder {
  id: string;
  customerId: string;
  totalCents: number;
  currency: string;
  status: string;
  history: { status: string; at: string }[];
}

/**
 * The whole lifecycle for LIFECYCLE_ORDERS orders: create → session → signed webhook → ready.
 * paid → ready latency comes from the orders' own history, less the simulated prep time.
 */
async function lifecycle(): Promise<{
  ordersPerSecond: number;
  paidToReadyMs: { p50: number; p99: number };
  orders: number;
}> {
  const system = await TestSystem.start({
    prefix: 'benchlife',
    env: { LOG_LEVEL: 'warn', KITCHEN_PREP_MS: String(LIFECYCLE_PREP_MS), KITCHEN_CONCURRENCY: '64' },
  });
  try {
    await system.addItem('life-item', 1_000_000);
    const started = performance.now();
    const ids: { id: string; customerId: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < LIFECYCLE_ORDERS) {
        const i = next++;
        const customerId = `bench-life-${i % 32}`;
        const created = await system.request<LifecycleOrder>('POST', `/v1/customers/${customerId}/orders`, {
          body: { items: [{ itemId: 'life-item', quantity: 1 }] },
        });
        const order = await waitFor(
          'awaiting_payment',
          async () => {
            const current = await system.request<LifecycleOrder>(
              'GET',
              `/v1/customers/${customerId}/orders/${created.body.id}`,
            );
            return current.body.status === 'awaiting_payment' ? current.body : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 20 },
        );
        const { body, signature } = signedCheckoutEvent('checkout.session.completed', order);
        await fetch(`${system.gatewayUrl}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body,
        });
        ids.push({ id: order.id, customerId });
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const finished = await Promise.all(
      ids.map((ref) =>
        waitFor(
          'ready',
          async () => {
            const current = await system.request<LifecycleOrder>(
              'GET',
              `/v1/customers/${ref.customerId}/orders/${ref.id}`,
            );
            return current.body.status === 'ready' ? current.body : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 50 },
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const latencies = finished
      .map((order) => {
        const at = (status: string) => Date.parse(order.history.find((h) => h.status === status)!.at);
        return at('ready') - at('paid') - LIFECYCLE_PREP_MS;
      })
      .sort((a, b) => a - b);
    const pick = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    return {
      ordersPerSecond: finished.length / seconds,
      paidToReadyMs: { p50: pick(0.5), p99: pick(0.99) },
      orders: finished.length,
    };
  } finally {
    await system.stop();
  }
}

async function startCeiling(script: string): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, [resolve(__dirname, script)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((done) =>
    createInterface({ input: child.stdout! }).once('line', done),
  );
  return { child, info: JSON.parse(line) as Record<string, string> };
}

function residentMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

async function main(): Promise<void> {
  await ensureStack();
  const httpCeiling = await startCeiling('ceiling-http.mjs');
  const grpcCeiling = await startCeiling('ceiling-grpc.mjs');
  const system = await TestSystem.start({
    prefix: 'bench',
    services: ['menu', 'stock', 'order', 'gateway'],
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    await system.addItem('bench-item', 1_000_000_000);
    const createUrl = `${system.gatewayUrl}/v1/customers/bench/orders`;
    const createBody = JSON.stringify({ items: [{ itemId: 'bench-item', quantity: 1 }] });
    const existing = await system.request<{ id: string }>('POST', '/v1/customers/bench/orders', {
      body: { items: [{ itemId: 'bench-item', quantity: 1 }] },
    });
    const getUrl = `${system.gatewayUrl}/v1/customers/bench/orders/${existing.body.id}`;

    const scenarios: Record<string, () => Promise<Measurement>> = {
      'ceiling: bare Fastify handler': () => http({ url: httpCeiling.info.url! }),
      'ceiling: bare grpc-js unary echo': () => grpcEcho(grpcCeiling.info.target!),
      'create order (POST)': () =>
        http({
          url: createUrl,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: createBody,
        }),
      'get order (GET)': () => http({ url: getUrl }),
    };
    const results: Record<string, ReturnType<typeof medianOf>> = {};
    for (const [name, run] of Object.entries(scenarios)) {
      await run(); // warm-up round, not counted
      const rounds: Measurement[] = [];
      for (let i = 0; i < ROUNDS; i++) rounds.push(await run());
      results[name] = medianOf(rounds);
      console.log(`${name}: ${results[name]!.rps.toFixed(0)} req/s, p99 ${results[name]!.p99.toFixed(1)} ms`);
    }
    const memory = Object.fromEntries(system.instances.map((i) => [i.name, residentMb(i.pid)]));
    await system.stop();
    const life = await lifecycle();
    console.log(
      `lifecycle: ${life.ordersPerSecond.toFixed(1)} orders/s; paid→ready p50 ${life.paidToReadyMs.p50} ms, p99 ${life.paidToReadyMs.p99} ms`,
    );
    const ceilingHttp = results['ceiling: bare Fastify handler']!.rps;
    const ceilingGrpc = results['ceiling: bare grpc-js unary echo']!.rps;
    const report = {
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        rounds: ROUNDS,
        statistic: 'median of rounds',
      },
      results,
      ratios: {
        createOrderVsHttpCeiling: results['create order (POST)']!.rps / ceilingHttp,
        createOrderVsGrpcCeiling: results['create order (POST)']!.rps / ceilingGrpc,
        getOrderVsHttpCeiling: results['get order (GET)']!.rps / ceilingHttp,
      },
      residentMemoryMb: memory,
      lifecycle: { ...life, prepMsExcluded: LIFECYCLE_PREP_MS },
      targets: { createOrderRps: 500, createOrderP99Ms: 150, getOrderRps: 2000 },
    };
    const outDir = resolve(ROOT, 'bench-results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(resolve(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    const rows = Object.entries(results).map(
      ([name, r]) =>
        `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p90.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
    );
    const markdown = [
      `# Benchmark (${report.at})`,
      '',
      `Machine: ${report.machine.cpus} cores (${report.machine.model}), ${report.machine.memoryGiB} GiB, Node ${report.machine.node}; whole stack local.`,
      `${CONNECTIONS} connections, ${DURATION_S} s per round, median of ${ROUNDS} rounds after one warm-up round.`,
      '',
      '| scenario | req/s | p50 ms | p90 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `Ratios: create-order = ${(report.ratios.createOrderVsHttpCeiling * 100).toFixed(1)}% of the bare HTTP ceiling, get-order = ${(report.ratios.getOrderVsHttpCeiling * 100).toFixed(1)}%.`,
      '',
      `Lifecycle (${life.orders} orders, create → ready): ${life.ordersPerSecond.toFixed(1)} orders/s; paid → ready p50 ${life.paidToReadyMs.p50} ms, p99 ${life.paidToReadyMs.p99} ms (simulated ${LIFECYCLE_PREP_MS} ms prep excluded).`,
      '',
      `Resident memory (MB): ${Object.entries(memory)
        .map(([n, mb]) => `${n} ${mb}`)
        .join(', ')}`,
    ].join('\n');
    writeFileSync(resolve(outDir, 'latest.md'), `${markdown}\n`);
    console.log(`\n${markdown}\n\nwritten to bench-results/latest.{json,md}`);
  } finally {
    await system.stop();
    httpCeiling.child.kill();
    grpcCeiling.child.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
