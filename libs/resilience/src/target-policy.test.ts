import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import { createTargetPolicy } from './target-policy';

const options = {
  retryAttempts: 2,
  breakerFailures: 3,
  breakerHalfOpenMs: 60_000,
  bulkheadLimit: 2,
  bulkheadQueue: 0,
};
const grpcError = (code: status) => Object.assign(new Error(`code ${code}`), { code });

test('UNAVAILABLE is retried for idempotent methods only', async () => {
  const policy = createTargetPolicy(options);
  let attempts = 0;
  const flaky = async () => {
    attempts += 1;
    if (attempts < 3) throw grpcError(status.UNAVAILABLE);
    return 'ok';
  };
  assert.equal(await policy.execute(flaky, { idempotent: true }), 'ok');
  assert.equal(attempts, 3);

  attempts = 0;
  await assert.rejects(policy.execute(flaky, { idempotent: false }), { code: status.UNAVAILABLE });
  assert.equal(attempts, 1);
});

test('other errors are never retried', async () => {
  const policy = createTargetPolicy(options);
  for (const code of [status.DEADLINE_EXCEEDED, status.FAILED_PRECONDITION, status.INTERNAL]) {
    let attempts = 0;
    await assert.rejects(
      policy.execute(
        async () => {
          attempts += 1;
          throw grpcError(code);
        },
        { idempotent: true },
      ),
    );
    assert.equal(attempts, 1, `code ${code}`);
  }
});

test('the breaker opens after consecutive failures and then fails fast without calling', async () => {
  const states: string[] = [];
  const policy = createTargetPolicy({
    ...options,
    retryAttempts: 0,
    onBreakerStateChange: (s) => states.push(s),
  });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      policy.execute(async () => Promise.reject(grpcError(status.UNAVAILABLE)), { idempotent: false }),
    );
  }
  assert.equal(policy.breakerState(), 'open');
  let called = false;
  await assert.rejects(
    policy.execute(
      async () => {
        called = true;
      },
      { idempotent: false },
    ),
    BrokenCircuitError,
  );
  assert.equal(called, false);
  assert.deepEqual(states, ['open']);
});

test('business answers never open the breaker', async () => {
  const policy = createTargetPolicy({ ...options, retryAttempts: 0 });
  for (let i = 0; i < 10; i++) {
    await assert.rejects(
      policy.execute(async () => Promise.reject(grpcError(status.FAILED_PRECONDITION)), { idempotent: true }),
    );
  }
  assert.equal(policy.breakerState(), 'closed');
});

test('the bulkhead rejects calls beyond its limit', async () => {
  const policy = createTargetPolicy(options);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = [
    policy.execute(() => gate, { idempotent: true }),
    policy.execute(() => gate, { idempotent: true }),
  ];
  await assert.rejects(
    policy.execute(async () => undefined, { idempotent: true }),
    BulkheadRejectedError,
  );
  release();
  await Promise.all(held);
});

test('an UNAVAILABLE composed by a healthy server (its dependency is down) is neither retried nor counted', async () => {
  const policy = createTargetPolicy({ ...options, breakerFailures: 2 });
  const metadata = new Metadata();
  metadata.set('oms-error-reason', 'unavailable');
  let attempts = 0;
  for (let i = 0; i < 5; i++) {
    await assert.rejects(
      policy.execute(
        async () => {
          attempts += 1;
          throw Object.assign(grpcError(status.UNAVAILABLE), { metadata });
        },
        { idempotent: true },
      ),
    );
  }
  assert.equal(attempts, 5);
  assert.equal(policy.breakerState(), 'closed');
});

test('calls that run out of time at a target that answers are overload, not an outage: the breaker stays closed', async () => {
  let clock = 0;
  const policy = createTargetPolicy({
    ...options,
    retryAttempts: 0,
    answeredRecentlyMs: 10_000,
    now: () => clock,
  });
  // Never answered: a target that only times out is hung, and the breaker opens.
  for (let i = 0; i < 3; i++)
    await assert.rejects(
      policy.execute(async () => Promise.reject(grpcError(status.DEADLINE_EXCEEDED)), { idempotent: false }),
    );
  assert.equal(policy.breakerState(), 'open');

  const busy = createTargetPolicy({
    ...options,
    retryAttempts: 0,
    answeredRecentlyMs: 10_000,
    now: () => clock,
  });
  await busy.execute(async () => 'answered', { idempotent: false });
  clock += 9_000;
  for (let i = 0; i < 10; i++)
    await assert.rejects(
      busy.execute(async () => Promise.reject(grpcError(status.DEADLINE_EXCEEDED)), { idempotent: false }),
    );
  assert.equal(busy.breakerState(), 'closed', 'it answered 9 s ago: its timeouts are its queue');

  // A business answer shows the target is up too; silence for longer than the window does not.
  await assert.rejects(
    busy.execute(async () => Promise.reject(grpcError(status.NOT_FOUND)), { idempotent: false }),
  );
  clock += 10_001;
  for (let i = 0; i < 3; i++)
    await assert.rejects(
      busy.execute(async () => Promise.reject(grpcError(status.DEADLINE_EXCEEDED)), { idempotent: false }),
    );
  assert.equal(busy.breakerState(), 'open', 'nothing answered for over 10 s: it is away');
});
