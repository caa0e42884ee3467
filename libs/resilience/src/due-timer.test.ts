import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DueTimer } from './due-timer';

/**
 * Counts calls and lets a test wait for the n-th. Waiting has no deadline of its own: the test's
 * `timeout` is it. (@oms/testing's waitFor would do, but testing starts services through this lib.)
 */
function callCounter() {
  let count = 0;
  const waiting: { at: number; resolve: () => void }[] = [];
  return {
    get count() {
      return count;
    },
    called(): void {
      count++;
      for (const waiter of waiting.filter((w) => w.at <= count)) waiter.resolve();
    },
    reached(at: number): Promise<void> {
      return count >= at ? Promise.resolve() : new Promise((resolve) => waiting.push({ at, resolve }));
    },
  };
}

const WITHIN = { timeout: 10_000 };

test(
  'a round sleeps as long as it asks, within bounds, and wakes early for work due sooner',
  WITHIN,
  async () => {
    const rounds: number[] = [];
    const roundCalls = callCounter();
    const timer = new DueTimer(
      async () => {
        rounds.push(Date.now());
        roundCalls.called();
        return 60_000; // nothing due: as long as allowed
      },
      { minMs: 10, maxMs: 5_000, onError: (error) => assert.fail(String(error)) },
    );
    timer.start();
    try {
      await roundCalls.reached(1);
      const asked = Date.now();
      timer.dueBy(new Date(asked + 50));
      await roundCalls.reached(2);
      assert.ok(rounds[1]! - asked < 1_000, 'woke for the work, not after maxMs');
      timer.dueBy(new Date(Date.now() + 60_000)); // due later than the next wake: changes nothing
    } finally {
      await timer.stop();
    }
    assert.equal(rounds.length, 2);
  },
);

test(
  'a failing round is logged and tried again after minMs; stop waits for the round under way',
  WITHIN,
  async () => {
    const errors: unknown[] = [];
    const calls = callCounter();
    let release!: () => void;
    const timer = new DueTimer(
      async () => {
        calls.called();
        if (calls.count === 1) throw new Error('database away');
        await new Promise<void>((resolve) => (release = resolve));
        return 10;
      },
      { minMs: 10, maxMs: 1_000, onError: (error) => errors.push(error) },
    );
    timer.start();
    await calls.reached(2);
    let stopped = false;
    const stopping = timer.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(stopped, false, 'stop waits for the round');
    release();
    await stopping;
    assert.equal(errors.length, 1);
    assert.equal(calls.count, 2, 'no round after stop');
  },
);
