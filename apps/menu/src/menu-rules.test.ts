import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '@oms/domain';
import { validateMenuItem } from './menu-rules';

const valid = {
  id: 'margherita',
  name: 'Margherita',
  description: 'Tomato, mozzarella',
  priceCents: 1250,
  currency: 'usd',
};

test('a valid item is kept as given', () => {
  assert.deepEqual(
    validateMenuItem(valid, () => 'unused'),
    valid,
  );
});

test('an empty id is generated', () => {
  assert.equal(validateMenuItem({ ...valid, id: '' }, () => 'item-1').id, 'item-1');
});

test('every problem is reported at once as an invalid request', () => {
  assert.throws(
    () =>
      validateMenuItem(
        { id: 'bad id', name: ' ', description: '', priceCents: -1, currency: 'USD' },
        () => 'x',
      ),
    (error: unknown) =>
      error instanceof DomainError &&
      error.kind === 'invalid' &&
      error.details.map((d) => d.field).join(',') === 'id,name,priceCents,currency',
  );
});
