import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveConcurrencyLimit, type Release } from './adaptive-limit';

function limiter(initial: number, clock = { ms: 0 }) {
  return {
    clock,
    limit: new AdaptiveConcurrencyLimit({
      initial,
      min: 2,
      max: 8,
      latencyTargetMs: 100,
      backoffRatio: 0.5,
      now: () => clock.ms,
    }),
  };
}

test('work beyond the limit is refused at once', () => {
  const { limit } = limiter(3);
  const admitted = [limit.tryAcquire(), limit.tryAcquire(), limit.tryAcquire()];
  assert.ok(admitted.every(Boolean));
  assert.equal(limit.tryAcquire(), undefined);
  admitted[0]!();
  assert.ok(limit.tryAcquire(), 'a finished call frees its place');
  assert.equal(limit.snapshot().refused, 1);
});

test('slow calls shrink the limit, down to the minimum', () => {
  const { limit, clock } = limiter(8);
  for (let round = 0; round < 4; round++) {
    const release = limit.tryAcquire()!;
    clock.ms += 150;
    release();
  }
  assert.equal(limit.snapshot().limit, 2);
});

test('a dropped call shrinks the limit whatever its latency', () => {
  const { limit } = limiter(8);
  limit.tryAcquire()!('dropped');
  assert.equal(limit.snapshot().limit, 4);
});

test('fast calls grow the limit while it is in use, up to the maximum', () => {
  const { limit, clock } = limiter(2);
  for (let round = 0; round < 10; round++) {
    const held: Release[] = [];
    for (let acquired = limit.tryAcquire(); acquired; acquired = limit.tryAcquire()) held.push(acquired);
    clock.ms += 10;
    for (const release of held) release();
  }
  assert.equal(limit.snapshot().limit, 8);
});

test('fast calls on a mostly idle limit leave it where it is', () => {
  const { limit } = limiter(6);
  for (let round = 0; round < 20; round++) limit.tryAcquire()!();
  assert.equal(limit.snapshot().limit, 6);
});

test('releasing twice counts once', () => {
  const { limit } = limiter(2);
  const release = limit.tryAcquire()!;
  limit.tryAcquire();
  release();
  release();
  assert.equal(limit.snapshot().inFlight, 1);
});
