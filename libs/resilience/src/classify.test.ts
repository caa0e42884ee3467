import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { countsAgainstBreaker, isTransient, meansDependencyAway } from './classify';

function grpcError(code: status, reason?: string): Error & { code: status; metadata: Metadata } {
  const metadata = new Metadata();
  if (reason) metadata.set('oms-error-reason', reason);
  return Object.assign(new Error(status[code]), { code, metadata });
}

test('a dependency that is away, busy or slow can answer later; a business answer or a bug cannot', () => {
  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED])
    assert.equal(meansDependencyAway(grpcError(code)), true, status[code]);
  assert.equal(
    meansDependencyAway(grpcError(status.UNAVAILABLE, 'unavailable')),
    true,
    'a server saying its own dependency is away',
  );
  for (const code of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION, status.INTERNAL])
    assert.equal(meansDependencyAway(grpcError(code)), false, status[code]);
  assert.equal(meansDependencyAway(new Error('boom')), false);
  assert.equal(meansDependencyAway(null), false);
});

test('only an unanswered call is retried at once, and only an unhealthy target opens the breaker', () => {
  assert.equal(isTransient(grpcError(status.UNAVAILABLE)), true);
  assert.equal(isTransient(grpcError(status.UNAVAILABLE, 'unavailable')), false, 'the target answered');
  assert.equal(countsAgainstBreaker(grpcError(status.DEADLINE_EXCEEDED)), true);
  assert.equal(countsAgainstBreaker(grpcError(status.NOT_FOUND)), false);
  assert.equal(countsAgainstBreaker(grpcError(status.INTERNAL, 'internal')), false);
});
