import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@oms/testing';
import { DueTimer } from './due-timer';

test('a round sleeps as long as it asks, within bounds, and wakes early for work due sooner', async () => {
  const rounds: number[] = [];
  const timer = new DueTimer(
    async () => {
      rounds.push(Date.now());
      return 60_000; // nothing due: as long as allowed
    },
    { minMs: 10, maxMs: 5_000, onError: (error) => assert.fail(String(error)) },
  );
  timer.start();
  try {
    await waitFor('the first round', () => rounds.length === 1 || undefined);
    const asked = Date.now();
    timer.dueBy(new Date(asked + 50));
    await waitFor('a round for the work due', () => rounds.length === 2 || undefined, { timeoutMs: 2_000 });
    assert.ok(rounds[1]! - asked < 1_000, 'woke for the work, not after maxMs');
    timer.dueBy(new Date(Date.now() + 60_000)); // due later than the next wake: changes nothing
  } finally {
    await timer.stop();
  }
  assert.equal(rounds.length, 2);
});

test('a failing round is logged and tried again after minMs; stop waits for the round under way', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  let release!: () => void;
  const timer = new DueTimer(
    async () => {
      calls++;
      if (calls === 1) throw new Error('database away');
      await new Promise<void>((resolve) => (release = resolve));
      return 10;
    },
    { minMs: 10, maxMs: 1_000, onError: (error) => errors.push(error) },
  );
  timer.start();
  await waitFor('the second round to start', () => calls === 2 || undefined);
  let stopped = false;
  const stopping = timer.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(stopped, false, 'stop waits for the round');
  release();
  await stopping;
  assert.equal(errors.length, 1);
  assert.equal(calls, 2, 'no round after stop');
});
