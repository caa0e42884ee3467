import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { shutdownInOrder } from './shutdown';

const logger = pino({ level: 'silent' });

test('steps run one after another in the given order', async () => {
  const order: string[] = [];
  const step = (name: string, ms: number) => ({
    name,
    run: () => new Promise<void>((resolve) => setTimeout(() => (order.push(name), resolve()), ms)),
  });
  await shutdownInOrder(
    [step('not serving', 5), step('deregister', 1), step('drain', 10), step('close', 0)],
    logger,
  );
  assert.deepEqual(order, ['not serving', 'deregister', 'drain', 'close']);
});

test('a failing step is reported and the next steps still run', async () => {
  const order: string[] = [];
  const { failed } = await shutdownInOrder(
    [
      { name: 'deregister', run: () => Promise.reject(new Error('consul down')) },
      { name: 'close db', run: () => void order.push('close db') },
    ],
    logger,
  );
  assert.deepEqual(failed, ['deregister']);
  assert.deepEqual(order, ['close db']);
});

test('a step that hangs is abandoned after its timeout', async () => {
  const started = Date.now();
  const { failed } = await shutdownInOrder(
    [
      { name: 'drain', run: () => new Promise<void>(() => undefined), timeoutMs: 50 },
      { name: 'flush', run: () => undefined },
    ],
    logger,
  );
  assert.deepEqual(failed, ['drain']);
  assert.ok(Date.now() - started < 1000);
});
