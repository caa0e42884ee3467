import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ensureStack,
  grpcHealthStatus,
  jaegerServices,
  passingInstances,
  stackAddresses,
  startService,
  uniqueDeployment,
  waitFor,
  type RunningService,
} from '@oms/testing';

const SERVICES = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'] as const;
const GRPC_SERVICES = SERVICES.filter((name) => name !== 'gateway');

describe('foundation: six services on the real stack', () => {
  const deployment = uniqueDeployment('found');
  const running = new Map<string, RunningService>();
  let consulUrl = '';
  let jaegerUrl = '';

  before(async () => {
    await ensureStack();
    const addresses = await stackAddresses();
    consulUrl = addresses.CONSUL_URL!;
    jaegerUrl = addresses.JAEGER_QUERY_URL!;
    // Started one after another so each finds the ones it calls already registered.
    for (const name of SERVICES) running.set(name, await startService(name, { deployment }));
  });

  after(async () => {
    await Promise.all([...running.values()].map((service) => service.stop()));
  });

  test('each service is registered and passing in Consul', async () => {
    for (const name of SERVICES) {
      const instances = await waitFor(`${name} passing in Consul`, async () => {
        const found = await passingInstances(consulUrl, name, deployment);
        return found.length === 1 ? found : undefined;
      });
      assert.equal(instances[0]!.port, running.get(name)!.port, `${name} registered the port it bound`);
    }
  });

  test('each gRPC service answers grpc.health.v1 SERVING', async () => {
    for (const name of GRPC_SERVICES) {
      assert.equal(await grpcHealthStatus(`127.0.0.1:${running.get(name)!.port}`), 'SERVING', name);
    }
  });

  test('Jaeger lists all six service names once they handled traffic', async () => {
    const gateway = `http://127.0.0.1:${running.get('gateway')!.port}`;
    // Traffic that reaches every service: menu + stock, order, kitchen, payment.
    await waitFor(
      'the gateway to serve the menu',
      async () => (await fetch(`${gateway}/v1/menu`)).status === 200,
    );
    await fetch(`${gateway}/v1/customers/c-foundation/orders/ord_missing`);
    await fetch(`${gateway}/v1/kitchen/tickets`);
    await fetch(`${gateway}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=bad' },
      body: '{}',
    });
    const names = await waitFor(
      'all six services in Jaeger',
      async () => {
        const listed = await jaegerServices(jaegerUrl);
        return SERVICES.every((name) => listed.includes(name)) ? listed : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    for (const name of SERVICES) assert.ok(names.includes(name), `${name} in ${names.join(',')}`);
  });

  test('after SIGTERM a service leaves Consul within 2 s and exits 0', async () => {
    const kitchen = running.get('kitchen')!;
    const signalled = Date.now();
    kitchen.process.kill('SIGTERM');
    await waitFor(
      'kitchen gone from the passing list',
      async () => (await passingInstances(consulUrl, 'kitchen', deployment)).length === 0,
      { timeoutMs: 2_000, intervalMs: 20 },
    );
    const goneAfterMs = Date.now() - signalled;
    assert.ok(goneAfterMs <= 2_000, `gone after ${goneAfterMs} ms`);
    assert.equal(await kitchen.exited, 0);
    running.delete('kitchen');
  });
});
