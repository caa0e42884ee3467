// Against the real Consul agent of the local stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ConsulClient } from '@oms/discovery';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { ConsulRegistration, type InstanceAddress } from './registration';

const logger = pino({ level: 'silent' });
const deployment = uniqueDeployment('reg');
let consul: ConsulClient;
const registered = new Set<string>();

before(async () => {
  await ensureStack({ only: ['consul'] });
  consul = new ConsulClient((await stackAddresses()).CONSUL_URL!);
});

after(async () => {
  const left = [...registered].map(async (id) =>
    (await consul.isRegistered(id)) ? consul.deregister(id) : undefined,
  );
  await Promise.all(left);
});

async function registerInstance(id: string, port: number): Promise<ConsulRegistration> {
  const instance: InstanceAddress = {
    id: `${deployment}-${id}`,
    name: `reg-test-${deployment}`,
    tags: [`env-${deployment}`],
    address: '127.0.0.1',
    port,
  };
  const registration = new ConsulRegistration(consul, 'grpc', instance, logger);
  registered.add(instance.id);
  await registration.register();
  return registration;
}

test("an instance restarted on its predecessor's port replaces the registration the dead process left there", async () => {
  // Nothing listens on these ports: the checks do not matter here, only what the agent holds.
  await registerInstance('killed', 40_001);
  await registerInstance('neighbour', 40_002);
  assert.ok(await consul.isRegistered(`${deployment}-killed`));

  await registerInstance('restarted', 40_001);

  assert.equal(await consul.isRegistered(`${deployment}-killed`), false, 'the leftover is gone');
  assert.ok(await consul.isRegistered(`${deployment}-restarted`));
  assert.ok(await consul.isRegistered(`${deployment}-neighbour`), 'another port is another instance');
  assert.deepEqual(await consul.registrationsAt(`reg-test-${deployment}`, '127.0.0.1', 40_001), [
    `${deployment}-restarted`,
  ]);
});

test('an instance registered again later (its agent forgot it) leaves a live instance at its address alone', async () => {
  const first = await registerInstance('first', 40_003);
  await registerInstance('second', 40_003); // its first registration takes the address over
  assert.equal(await consul.isRegistered(`${deployment}-first`), false);

  await first.keep(); // finds itself gone and registers again, as after an agent restart

  assert.ok(await consul.isRegistered(`${deployment}-first`));
  assert.ok(await consul.isRegistered(`${deployment}-second`), 'no taking turns at removing each other');
});
