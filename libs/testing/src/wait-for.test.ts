import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './wait-for';

test('resolves with the first truthy value', async () => {
  let calls = 0;
  assert.equal(await waitFor('three calls', () => (++calls >= 3 ? calls : undefined), { intervalMs: 1 }), 3);
});

test('fails with the description and the last error after the deadline', async () => {
  await assert.rejects(
    waitFor('the impossible', () => Promise.reject(new Error('nope')), { timeoutMs: 30, intervalMs: 5 }),
    /timed out after 30 ms waiting for the impossible: Error: nope/,
  );
});
