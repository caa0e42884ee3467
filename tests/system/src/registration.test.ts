// An instance stays findable when Consul forgets it: a Consul agent that restarts without its data
// (a dev agent, a replaced node) drops every registration, and the instances register again by
// themselves instead of staying invisible until someone restarts them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, passingInstances, stackAddresses, TestSystem, waitFor } from '@oms/testing';

let system: TestSystem;
let consulUrl: string;

before(async () => {
  await ensureStack();
  consulUrl = (await stackAddresses()).CONSUL_URL!;
  system = await TestSystem.start({ services: ['menu'], prefix: 'reg' });
});

after(() => system?.stop());

test('an instance that Consul forgot registers again within the check interval', async () => {
  const [menu] = system.running('menu');
  assert.ok(menu);
  const registered = () => passingInstances(consulUrl, 'menu', system.deployment);
  assert.deepEqual(
    (await registered()).map((i) => i.id),
    [menu.instanceId],
  );

  const forgotten = await fetch(`${consulUrl}/v1/agent/service/deregister/${menu.instanceId}`, {
    method: 'PUT',
  });
  assert.equal(forgotten.status, 200);
  assert.deepEqual(await registered(), [], 'Consul still lists the instance it was told to forget');

  const back = await waitFor(
    'the instance to register again',
    async () => {
      const instances = await registered();
      return instances.length === 1 ? instances : undefined;
    },
    { timeoutMs: 25_000, intervalMs: 250 },
  );
  assert.equal(back[0]!.id, menu.instanceId);
  assert.equal(back[0]!.port, menu.port);
});
