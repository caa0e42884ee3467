import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError, duplicate, invalid, missing, refused } from './domain-error';

test('each helper gives its kind, a stable reason and the details', () => {
  const cases: [DomainError, string, string][] = [
    [invalid('bad', [{ field: 'x' }]), 'invalid', 'invalid_argument'],
    [invalid('unknown', [], 'unknown_item'), 'invalid', 'unknown_item'],
    [missing('no such order'), 'not_found', 'not_found'],
    [refused('out_of_stock', 'not enough stock', [{ itemId: 'a' }]), 'precondition_failed', 'out_of_stock'],
    [duplicate('reservation_id_reused', 'taken'), 'already_exists', 'reservation_id_reused'],
  ];
  for (const [error, kind, reason] of cases) {
    assert.ok(error instanceof DomainError && error instanceof Error);
    assert.equal(error.kind, kind);
    assert.equal(error.reason, reason);
  }
  assert.deepEqual(cases[0]![0].details, [{ field: 'x' }]);
});
