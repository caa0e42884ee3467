import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ADMIN_TOKEN,
  ensureStack,
  passingInstances,
  stackAddresses,
  uniqueDeployment,
  waitFor,
} from '@oms/testing';
import { toolBinary } from '../../test/tools';
import { JOB, JOB_FILE, NomadClient } from './nomad-client';
import { Traffic } from './traffic';

const ROOT = resolve(__dirname, '../../..');
const SERVICES = ['gateway', 'order', 'stock', 'menu', 'payment', 'kitchen'] as const;
const ITEM = 'nomad-pizza';
type Counts = Record<(typeof SERVICES)[number], number>;
const DEPLOYED: Counts = { gateway: 2, order: 2, stock: 2, menu: 2, payment: 2, kitchen: 2 };

describe('Nomad: the job on a real dev agent, under a steady stream of orders', () => {
  const deployment = uniqueDeployment('nomad');
  const startedAt = Date.now();
  let nomad: NomadClient;
  let consulUrl = '';
  let traffic: Traffic | undefined;
  let agentWasRunning = false;
  let jobVariables: string[] = [];

  const passing = async (service: string) => passingInstances(consulUrl, service, deployment);
  const countsNow = async (): Promise<Counts> =>
    Object.fromEntries(
      await Promise.all(SERVICES.map(async (service) => [service, (await passing(service)).length])),
    ) as Counts;
  /** Waits until Consul lists exactly `expected` passing instances per service, then prints them. */
  const expectCounts = async (step: string, expected: Counts): Promise<void> => {
    const counts = await waitFor(
      `${step}: ${JSON.stringify(expected)} passing in Consul`,
      async () => {
        const now = await countsNow();
        return SERVICES.every((service) => now[service] === expected[service]) ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    assert.deepEqual(counts, expected);
    const requests = traffic ? `; requests ${traffic.total} ok, ${traffic.failures.length} failed` : '';
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
    console.log(`[nomad ${seconds}s] ${step}: Consul passing ${JSON.stringify(counts)}${requests}`);
  };
  const deployed = async (step: string): Promise<number> => {
    const version = await nomad.jobVersion();
    assert.ok(version !== undefined, 'the job exists');
    // Nomad fails a deployment itself once no allocation has turned healthy for progress_deadline
    // (5 min); a deployment still running after that is stuck, e.g. on a placement it cannot make.
    const outcome = await waitFor(
      `${step}: deployment of version ${version}`,
      () => nomad.deploymentOutcome(version),
      { timeoutMs: 330_000, intervalMs: 500 },
    ).catch((error: unknown) => (error as Error).message);
    if (outcome !== 'successful')
      assert.fail(
        `${step}: deployment of version ${version}: ${outcome}\n${await nomad.deploymentReport().catch(String)}`,
      );
    return version;
  };

  before(async () => {
    await ensureStack();
    const stack = await import('@oms/local-stack');
    agentWasRunning = (await stack.status({ quiet: true, only: ['nomad'] })).components.some(
      (c) => c.name === 'nomad' && c.status === 'up',
    );
    await ensureStack({ only: ['nomad'] });
    nomad = new NomadClient(await toolBinary('nomad'), process.env.NOMAD_ADDR ?? 'http://127.0.0.1:4646');
    const addresses = await stackAddresses();
    consulUrl = addresses.CONSUL_URL!;
    jobVariables = [
      ['driver', 'raw_exec'],
      ['bundle_dir', ROOT],
      ['node', process.execPath],
      ['deployment', deployment],
      ['node_env', 'test'],
      ['consul_url', consulUrl],
      ['mongo_url', addresses.MONGO_URL!],
      ['amqp_url', addresses.AMQP_URL!],
      ['otlp_endpoint', addresses.OTEL_EXPORTER_OTLP_ENDPOINT!],
      ['stripe_api_url', addresses.STRIPE_API_URL!],
    ].flatMap(([name, value]) => ['-var', `${name}=${value}`]);
  });

  after(async () => {
    await traffic?.stop();
    if (nomad) {
      // stopped (SIGTERM: each instance deregisters and drains) and finished before the agent stops
      nomad.cli('job', 'stop', '-detach', JOB);
      await waitFor('every allocation stopped', () => nomad.allStopped(), {
        timeoutMs: 60_000,
        intervalMs: 250,
      }).catch((error: unknown) => console.error(error));
      nomad.cli('job', 'stop', '-purge', '-detach', JOB);
    }
    if (!agentWasRunning) await (await import('@oms/local-stack')).down({ quiet: true, only: ['nomad'] });
  });

  test('the job is formatted and validates for both drivers', () => {
    nomad.cli('fmt', '-check', JOB_FILE);
    for (const driver of ['raw_exec', 'docker'])
      nomad.cli('job', 'validate', '-var', `driver=${driver}`, JOB_FILE);
  });

  test('deploy, scale order and stock 2→4→2, roll order, kill an instance: no request fails', async () => {
    nomad.cli('job', 'run', '-detach', ...jobVariables, JOB_FILE);
    await deployed('deploy');
    await expectCounts('deployed', DEPLOYED);
    await seedStock();
    traffic = new Traffic(consulUrl, deployment, ITEM);
    await traffic.start(2);
    await waitFor('the first orders', () => traffic!.created >= 5, { timeoutMs: 30_000 });

    for (const count of [4, 2]) {
      // one scaling at a time: Nomad refuses another while a deployment is under way
      for (const group of ['order', 'stock']) {
        nomad.cli('job', 'scale', '-detach', JOB, group, String(count));
        await deployed(`${group} scaled to ${count}`);
      }
      await expectCounts(`order and stock scaled to ${count}`, { ...DEPLOYED, order: count, stock: count });
    }

    const before = new Set((await passing('order')).map((instance) => instance.id));
    const rolledVariables = [...jobVariables, '-var', 'service_env={ order = { OMS_ROLLOUT = "2" } }'];
    nomad.cli('job', 'run', '-detach', ...rolledVariables, JOB_FILE);
    const version = await deployed('rolling update of order');
    await expectCounts('order rolled to a new version', DEPLOYED);
    const after = (await passing('order')).map((instance) => instance.id);
    assert.ok(
      after.every((id) => !before.has(id)),
      'every order instance is a new one',
    );
    const orderAllocations = await nomad.runningAllocations('order');
    assert.ok(
      orderAllocations.every((a) => a.JobVersion === version),
      'every order allocation runs the new version',
    );
    for (const allocation of orderAllocations) assert.match(environOf(allocation, after), /OMS_ROLLOUT=2/);

    const victim = after[0]!;
    const pid = pidOf(victim);
    const allocationId = /(?:^|\0)NOMAD_ALLOC_ID=([^\0]+)/.exec(
      readFileSync(`/proc/${pid}/environ`, 'utf8'),
    )![1]!;
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the killed instance out of the passing list',
      async () => (await passing('order')).every((instance) => instance.id !== victim),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitFor(
      'Nomad to restart the killed task',
      async () => {
        const allocation = (await nomad.runningAllocations('order')).find((a) => a.ID === allocationId);
        return (allocation?.TaskStates?.order?.Restarts ?? 0) >= 1;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await expectCounts(
      `order pid ${pid} killed (SIGKILL), restarted in allocation ${allocationId.slice(0, 8)}`,
      DEPLOYED,
    );
    const replaced = (await passing('order')).map((instance) => instance.id);
    assert.ok(
      !replaced.includes(victim) && replaced.length === 2,
      "a new instance took the killed one's place",
    );

    await traffic.stop();
    console.log(
      `[nomad] requests: ${traffic.created} created and ${traffic.read} read, ${traffic.failures.length} failed; ` +
        `${((Date.now() - startedAt) / 1000).toFixed(0)} s in all`,
    );
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.created > 20, `a steady stream (${traffic.created} orders)`);
  });

  async function seedStock(): Promise<void> {
    const [gateway] = await passing('gateway');
    const url = `http://${gateway!.address}:${gateway!.port}`;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const item = {
      id: ITEM,
      name: 'Nomad pizza',
      description: 'scheduled',
      priceCents: 1000,
      currency: 'usd',
    };
    const created = await fetch(`${url}/v1/admin/menu`, {
      method: 'POST',
      headers,
      body: JSON.stringify(item),
    });
    assert.equal(created.status, 201, await created.text());
    const stocked = await fetch(`${url}/v1/admin/stock/${ITEM}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ available: 1_000_000 }),
    });
    assert.equal(stocked.status, 200, await stocked.text());
  }
});

/** The instance id a service registers is `<service>-<host>-<pid>-<random>`. */
function pidOf(instanceId: string): number {
  const pid = Number(instanceId.split('-').at(-2));
  assert.ok(Number.isInteger(pid) && pid > 0, `a pid in ${instanceId}`);
  return pid;
}

/** The environment of the process that registered one of `instanceIds` inside `allocation`. */
function environOf(allocation: { ID: string }, instanceIds: string[]): string {
  for (const id of instanceIds) {
    const environ = readFileSync(`/proc/${pidOf(id)}/environ`, 'utf8');
    if (environ.includes(`NOMAD_ALLOC_ID=${allocation.ID}`)) return environ;
  }
  throw new Error(`no registered instance runs in allocation ${allocation.ID}`);
}
