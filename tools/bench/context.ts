// What the scenarios share: the options, the system under test (started once, on first use),
// the stack's processes, CPU meters and order helpers.
import { TestSystem, type SystemServiceName, type TestOrder } from '@oms/testing';
import { coreShare, CpuMeter } from './cpu-meter';
import type { BenchOptions } from './options';
import { findInfrastructure, serviceGroups, type Infrastructure, type ProcessGroup } from './processes';
import { sleep } from './stats';

export class BenchContext {
  private main?: TestSystem;
  private infra?: Infrastructure;
  private readonly started: TestSystem[] = [];

  constructor(readonly options: BenchOptions) {}

  /** The stack's processes (looked up once). */
  async infrastructure(): Promise<Infrastructure> {
    this.infra ??= await findInfrastructure();
    return this.infra;
  }

  /** All six services in one deployment of their own, shared by the scenarios that need no special settings. */
  async system(): Promise<TestSystem> {
    this.main ??= await this.startSystem({ prefix: 'bench' });
    return this.main;
  }

  /**
   * Stops the shared system, so that a scenario that measures a system of its own (or idle cost)
   * does not count the shared one's pollers. A later ctx.system() starts a fresh one.
   */
  async releaseSystem(): Promise<void> {
    const main = this.main;
    this.main = undefined;
    await main?.stop();
  }

  /** A system of its own (stopped at the end of the run, or by the caller). */
  async startSystem(options: {
    prefix: string;
    env?: Record<string, string>;
    services?: readonly SystemServiceName[];
  }): Promise<TestSystem> {
    const system = await TestSystem.start({ ...options, env: { LOG_LEVEL: 'warn', ...options.env } });
    this.started.push(system);
    return system;
  }

  /**
   * A meter over the system's service processes, the stack's processes (looked up again: a
   * component may have been restarted since) and any extra ones.
   */
  async meter(system: TestSystem, extra: ProcessGroup[] = []): Promise<CpuMeter> {
    this.infra = await findInfrastructure();
    return new CpuMeter([...serviceGroups(system), ...this.infra.groups, ...extra]);
  }

  /**
   * Waits until our services are nearly idle (together under `threshold` of a core over a second),
   * so that one scenario's asynchronous tail (payment sessions, outbox relays) does not land in
   * the next one's figures. Gives up after `timeoutMs` and says so.
   */
  async settle(system: TestSystem, threshold = 0.3, timeoutMs = 60_000): Promise<number> {
    const { seconds, quiet } = await untilQuiet(new CpuMeter(serviceGroups(system)), {
      threshold,
      firstWaitMs: 1_000,
      windowMs: 1_000,
      timeoutMs,
    });
    if (!quiet) console.warn(`  (the services were still busy after ${timeoutMs / 1000} s; going on)`);
    return seconds;
  }

  /** Stops every system the run started, then drops their databases: a run must not slow the next. */
  async stop(): Promise<void> {
    await Promise.all(this.started.map((s) => s.stop()));
    for (const system of this.started) await system.dropDatabases();
  }
}

export async function createOrder(
  system: TestSystem,
  customerId: string,
  itemId: string,
  headers: Record<string, string> = {},
): Promise<TestOrder> {
  const created = await system.request<TestOrder>('POST', `/v1/customers/${customerId}/orders`, {
    body: { items: [{ itemId, quantity: 1 }] },
    headers,
  });
  if (created.status !== 201)
    throw new Error(`POST order answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body;
}

/** Polls GET every `intervalMs` until the order has `status`; counts the GETs. */
export async function pollUntilStatus(
  system: TestSystem,
  order: Pick<TestOrder, 'id' | 'customerId'>,
  status: string,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<{ order: TestOrder; gets: number }> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let gets = 0;
  let last = '(no answer)';
  while (Date.now() < deadline) {
    gets++;
    const current = await system.request<TestOrder>(
      'GET',
      `/v1/customers/${order.customerId}/orders/${order.id}`,
    );
    last = `${current.status} ${current.body?.status ?? JSON.stringify(current.body)}`;
    if (current.status === 200 && current.body.status === status) return { order: current.body, gets };
    if (current.status === 200 && ['failed', 'cancelled', 'ready'].includes(current.body.status))
      throw new Error(`order ${order.id} became ${current.body.status} while waiting for ${status}`);
    await sleep(options.intervalMs ?? 20);
  }
  throw new Error(`order ${order.id} did not reach ${status} in time (last answer: ${last})`);
}

/**
 * Waits `firstWaitMs`, then until the meter's groups (those of `labels`, or all) use under
 * `threshold` of a core together over one `windowMs`, or until `timeoutMs` from the start.
 */
export async function untilQuiet(
  meter: CpuMeter,
  options: {
    threshold: number;
    firstWaitMs: number;
    windowMs: number;
    timeoutMs: number;
    labels?: Set<string>;
  },
): Promise<{ seconds: number; quiet: boolean }> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  await sleep(options.firstWaitMs);
  while (Date.now() - started < options.timeoutMs) {
    const { usage } = await meter.measure(() => sleep(options.windowMs));
    const busy = Object.entries(coreShare(usage))
      .filter(([label]) => !options.labels || options.labels.has(label))
      .reduce((sum, [, share]) => sum + share, 0);
    if (busy < options.threshold) return { seconds: seconds(), quiet: true };
  }
  return { seconds: seconds(), quiet: false };
}
