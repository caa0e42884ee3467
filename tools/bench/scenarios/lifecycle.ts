// The whole lifecycle for BENCH_LIFECYCLE_ORDERS orders, 32 at a time: create → Checkout Session
// → signed webhook → kitchen → ready. paid → ready latency comes from the orders' own history,
// less the simulated prep time. In a system of its own (short prep, a wide kitchen).
import type { TestOrder } from '@oms/testing';
import type { BenchContext } from '../context';
import { createOrder, pollUntilStatus } from '../context';
import { msPer } from '../cpu-meter';
import { percentile } from '../stats';

const PREP_MS = 100;
const WORKERS = 32;

export interface LifecycleResult {
  /** Orders that reached `ready`. */
  orders: number;
  /** Orders that did not: a create that was refused, or one that never reached a status in time. */
  failed: number;
  firstFailure?: string;
  ordersPerSecond: number;
  paidToReadyMs: { p50: number; p99: number };
  prepMsExcluded: number;
  cpuMsPerOrder: Record<string, number>;
}

export async function lifecycle(ctx: BenchContext): Promise<LifecycleResult> {
  await ctx.releaseSystem();
  const system = await ctx.startSystem({
    prefix: 'benchlife',
    env: { KITCHEN_PREP_MS: String(PREP_MS), KITCHEN_CONCURRENCY: '64' },
  });
  try {
    await system.addItem('life-item', 1_000_000);
    const meter = await ctx.meter(system);
    const failures: string[] = [];
    const failed = (error: unknown) => {
      failures.push(error instanceof Error ? error.message : String(error));
      return undefined;
    };
    const { result: finished, usage } = await meter.measure(async () => {
      const paid: { id: string; customerId: string }[] = [];
      let next = 0;
      const worker = async () => {
        while (next < ctx.options.lifecycleOrders) {
          const customerId = `bench-life-${next++ % WORKERS}`;
          try {
            const created = await createOrder(system, customerId, 'life-item');
            const { order } = await pollUntilStatus(system, created, 'awaiting_payment', {
              intervalMs: 20,
              timeoutMs: 60_000,
            });
            await system.webhook('checkout.session.completed', order).send();
            paid.push(order);
          } catch (error) {
            failed(error);
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const ready = await Promise.all(
        paid.map((ref) =>
          pollUntilStatus(system, ref, 'ready', { intervalMs: 50, timeoutMs: 120_000 }).then(
            ({ order }) => order,
            failed,
          ),
        ),
      );
      return ready.filter((order): order is TestOrder => order !== undefined);
    });
    if (finished.length === 0) throw new Error(`no order reached ready; first failure: ${failures[0]}`);
    const latencies = finished.map((order) => {
      const at = (status: string) => Date.parse(order.history.find((h) => h.status === status)!.at);
      return at('ready') - at('paid') - PREP_MS;
    });
    return {
      orders: finished.length,
      failed: failures.length,
      firstFailure: failures[0],
      ordersPerSecond: finished.length / usage.seconds,
      paidToReadyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
      prepMsExcluded: PREP_MS,
      cpuMsPerOrder: msPer(usage, finished.length),
    };
  } finally {
    await system.stop();
  }
}
