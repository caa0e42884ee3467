import { readFileSync } from 'node:fs';
import {
  ADMIN_TOKEN,
  ensureStack,
  RabbitNode,
  stackAddresses,
  TestSystem,
  type SystemServiceName,
} from '@oms/testing';
import { FaultInjector, type FaultRecord } from './faults';
import { call, sleep } from './http';
import { checkInvariants, readStores, settle, type DeadLetterQueue, type Settling } from './invariants';
import type { ChaosReport } from './report';
import { CHAOS_SERVICES, faultSchedule } from './schedule';
import { seedMenu } from './traffic';
import { TrafficThread } from './traffic-thread';

export interface ChaosOptions {
  minutes: number;
  ratePerSecond: number;
  seed: number;
  /**
   * Rounds of every fault; by default one per three minutes, at least one. Denser schedules keep
   * the system recovering all the time, and then the run shows little but recovery.
   */
  rounds?: number;
  log?: (line: string) => void;
}

/** The services run short timers so a run sees whole lifecycles; the broker is the run's own. */
const SERVICE_ENV = {
  RESERVATION_TTL_SECONDS: '60',
  KITCHEN_PREP_MS: '200',
  KITCHEN_CONCURRENCY: '8',
  LOG_LEVEL: 'info',
};
const ITEMS = ['chaos-a', 'chaos-b', 'chaos-c', 'chaos-d', 'chaos-e'];
const BROKER_PORT = 5791;

/** Starts the whole system (two instances of everything), runs traffic and faults, checks invariants. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  await ensureStack();
  const { MONGO_URL } = await stackAddresses();
  const broker = new RabbitNode(BROKER_PORT, `oms-chaos-${BROKER_PORT}`);
  const env = { ...SERVICE_ENV, AMQP_URL: broker.url };
  // The broker goes whatever happens, or the next run finds this one's node on its port.
  try {
    await broker.start();
    const system = await TestSystem.start({ env, prefix: 'chaos' });
    try {
      return await runOnSystem(system, broker, env, MONGO_URL!, options, log);
    } finally {
      await system.stop();
    }
  } finally {
    await broker.destroy();
  }
}

/** The run itself, on a started system. */
async function runOnSystem(
  system: TestSystem,
  broker: RabbitNode,
  env: Record<string, string>,
  mongoUrl: string,
  options: ChaosOptions,
  log: (line: string) => void,
): Promise<ChaosReport> {
  const seconds = Math.round(options.minutes * 60);
  const rounds = options.rounds ?? Math.max(1, Math.floor(options.minutes / 3));
  for (const service of CHAOS_SERVICES) await system.add(service as SystemServiceName, env);
  const gateways = () => system.running('gateway').map((g) => `http://127.0.0.1:${g.port}`);
  const initialStock = Math.ceil((options.ratePerSecond * seconds * 3) / ITEMS.length) + 100;
  await seedMenu(gateways()[0]!, ITEMS, initialStock);
  log(`system ${system.deployment} up: 2 × ${CHAOS_SERVICES.join(', ')}; ${initialStock} of each item`);

  const traffic = new TrafficThread({
    seed: options.seed,
    ratePerSecond: options.ratePerSecond,
    items: ITEMS,
    gateways,
  });
  const generatorPriority = await traffic.started;
  log(`load generator on its own thread, priority ${generatorPriority}`);
  const rss = new Map<string, number[]>();
  const sampler = setInterval(() => sampleRss(system, rss), 5000);
  const startedAt = Date.now();
  const faults = await runFaults(new FaultInjector(system, broker, env, options.seed), {
    schedule: faultSchedule(options.seed, seconds * 0.7, rounds),
    startedAt,
    log,
  });
  await sleep(Math.max(0, startedAt + seconds * 1000 - Date.now()));
  log('traffic stops; waiting for the flows under way');
  const outcome = await traffic.stop();
  clearInterval(sampler);
  const settling = await quietPeriod(mongoUrl, system.deployment, broker, log);
  const stores = await readStores(mongoUrl, system.deployment);
  const deadLetters = await listDeadLetters(gateways()[0]!);
  const invariants = checkInvariants({ ...stores, known: outcome.orders, initialStock, deadLetters, rss });
  if (outcome.violations.length > 0)
    invariants.push({
      name: 'the traffic saw no contradiction',
      passed: false,
      failures: outcome.violations,
    });
  const count = (status: string) => stores.orders.filter((o) => o.status === status).length;
  const failedBecause: Record<string, number> = {};
  for (const order of stores.orders.filter((o) => o.status === 'failed')) {
    const reason = order.history.at(-1)?.reason ?? 'no reason recorded';
    failedBecause[reason] = (failedBecause[reason] ?? 0) + 1;
  }
  return {
    seed: options.seed,
    minutes: options.minutes,
    ratePerSecond: options.ratePerSecond,
    startedAt: new Date(startedAt).toISOString(),
    orders: {
      accepted: outcome.orders.size,
      completed: count('ready'),
      cancelled: count('cancelled'),
      failed: count('failed'),
      open: stores.orders.length - count('ready') - count('cancelled') - count('failed'),
      failedBecause,
    },
    requests: { ...outcome.counts },
    generatorPriority,
    rounds,
    settling,
    invariants,
    faults,
    timeline: outcome.seconds,
    passed: invariants.every((i) => i.passed) && faults.every((f) => !f.error),
  };
}

/** Each fault starts at its time; outages overlap like real ones do. */
async function runFaults(
  injector: FaultInjector,
  plan: { schedule: ReturnType<typeof faultSchedule>; startedAt: number; log: (line: string) => void },
): Promise<FaultRecord[]> {
  const running = plan.schedule.map(async ({ at, fault }) => {
    await sleep(Math.max(0, plan.startedAt + at * 1000 - Date.now()));
    const record = await injector.inject(fault, plan.startedAt);
    plan.log(
      `${record.at.toFixed(1)} s: ${record.name} → ${record.error ?? `recovered in ${record.recoverySeconds?.toFixed(1)} s`}`,
    );
    return record;
  });
  return (await Promise.all(running)).sort((a, b) => a.at - b.at);
}

function sampleRss(system: TestSystem, rss: Map<string, number[]>): void {
  for (const instance of system.instances) {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${instance.pid}/status`, 'utf8'))?.[1];
      if (!kb) continue;
      const key = `${instance.name} pid ${instance.pid}`;
      rss.set(key, [...(rss.get(key) ?? []), Math.round(Number(kb) / 1024)]);
    } catch {
      // exited: its samples so far stay
    }
  }
}

/** Waits for the work under way to finish, and says how that went. */
async function quietPeriod(
  mongoUrl: string,
  deployment: string,
  broker: RabbitNode,
  log: (line: string) => void,
): Promise<Settling> {
  const settling = await settle(mongoUrl, deployment, {
    timeoutMs: 20 * 60_000,
    // Longer than the last retry tier (60 s), so an event waiting in it counts as work under way.
    stallMs: 90_000,
    messagesPending: () => eventsPending(broker, deployment),
  });
  log(
    settling.settled
      ? `settled in ${settling.seconds.toFixed(0)} s`
      : `did not settle (${settling.left} orders or items still busy after ${settling.seconds.toFixed(0)} s); checking anyway`,
  );
  return settling;
}

/** Messages in the deployment's work and retry queues; the dead letters are checked as an invariant. */
function eventsPending(broker: RabbitNode, deployment: string): number {
  let pending = 0;
  for (const [queue, messages] of broker.queueDepths()) {
    if (queue.startsWith(`${deployment}.`) && !queue.endsWith('.dead')) pending += messages;
  }
  return pending;
}

async function listDeadLetters(gateway: string): Promise<DeadLetterQueue[]> {
  const answer = await call<{ queues?: DeadLetterQueue[] }>(`${gateway}/v1/admin/dead-letters?limit=100`, {
    method: 'GET',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (answer.status !== 200 || !answer.body?.queues)
    throw new Error(`listing dead letters answered ${answer.status}`);
  return answer.body.queues.filter((queue) => queue.count > 0);
}
