import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@oms/logging';
import { waitFor } from '@oms/testing';
import { BackgroundLoops } from './background-loops';

const logger = createLogger({ service: 'test', instance: 'test', level: 'silent' });

test('a loop runs its rounds until stopped, and stop waits for the round under way', async () => {
  const loops = new BackgroundLoops(logger);
  let rounds = 0;
  let inRound = false;
  let finishedAfterStop = false;
  let stopping = false;
  loops.every('counter', 5, async () => {
    inRound = true;
    rounds++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (stopping) finishedAfterStop = true;
    inRound = false;
  });
  await waitFor('three rounds', () => rounds >= 3, { timeoutMs: 5000, intervalMs: 1 });
  await waitFor('a round under way', () => inRound, { timeoutMs: 5000, intervalMs: 1 });
  stopping = true;
  await loops.stop();
  assert.equal(finishedAfterStop, true, 'stop resolved before the round under way finished');
  const after = rounds;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(rounds, after, 'a round ran after stop');
});

test('a failed round is retried, and wake runs a sleeping loop early', async () => {
  const loops = new BackgroundLoops(logger);
  let attempts = 0;
  loops.every('flaky', 5, async () => {
    attempts++;
    if (attempts === 1) throw new Error('database away');
  });
  await waitFor('a retry after the failed round', () => attempts >= 2, { timeoutMs: 5000 });

  let woken = 0;
  const sleeper = loops.every('sleeper', { minMs: 5, maxMs: 60_000 }, async () => {
    woken++;
    return 60_000;
  });
  await waitFor('the first round', () => woken === 1, { timeoutMs: 5000 });
  sleeper.wake();
  await waitFor('the round that wake asked for', () => woken === 2, { timeoutMs: 5000 });
  await loops.stop();
});

test('a round learns that shutdown began, so a long one can end early', async () => {
  const loops = new BackgroundLoops(logger);
  let items = 0;
  let sawStop = false;
  loops.every('long sweep', 5, async (stopping) => {
    for (let i = 0; i < 1000 && !stopping.aborted; i++) {
      items++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    sawStop = stopping.aborted;
  });
  await waitFor('the sweep under way', () => items > 0, { timeoutMs: 5000, intervalMs: 1 });
  await loops.stop();
  assert.equal(sawStop, true);
  assert.ok(items < 1000, `the round went on to the end (${items} items)`);
});

test('two loops cannot share a name, and none starts during shutdown', async () => {
  const loops = new BackgroundLoops(logger);
  loops.every('sweeper', 1000, async () => undefined);
  assert.throws(() => loops.every('sweeper', 1000, async () => undefined), /already runs/);
  await loops.stop();
  assert.throws(() => loops.every('late', 1000, async () => undefined), /during shutdown/);
});
