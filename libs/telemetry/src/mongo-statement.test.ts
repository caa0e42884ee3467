import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { mongoStatement } from './mongo-statement';

test('a find shows its filter by field names and operators, never its values', () => {
  const statement = mongoStatement({
    find: 'orders',
    filter: { customerId: 'alice', createdAt: { $lt: new Date() }, _id: new ObjectId() },
    sort: { createdAt: -1 },
    limit: 20,
    $db: 'order_local',
  });
  assert.equal(statement, '{"customerId":"?","createdAt":{"$lt":"?"},"_id":"?"}');
});

test('an update and a delete show the filter of their first statement, not what they write', () => {
  const update = mongoStatement({
    update: 'stock_items',
    updates: [{ q: { _id: 'margherita', available: { $gte: 2 } }, u: { $inc: { available: -2, v: 1 } } }],
  });
  assert.equal(update, '{"_id":"?","available":{"$gte":"?"}}');
  const remove = mongoStatement({ delete: 'inbox', deletes: [{ q: { expiresAt: { $lte: 1 } }, limit: 0 }] });
  assert.equal(remove, '{"expiresAt":{"$lte":"?"}}');
});

test('a findAndModify shows its query, and $in lists are one masked element', () => {
  const statement = mongoStatement({
    findAndModify: 'orders',
    query: { _id: 'ord_1', status: { $in: [1, 2, 3] } },
    update: { $set: { status: 4, secret: 'card' } },
  });
  assert.equal(statement, '{"_id":"?","status":{"$in":["?"]}}');
  assert.ok(!statement.includes('card'));
});

test('an inserted document shows its top-level fields only', () => {
  const statement = mongoStatement({
    _id: 'ord_1',
    customerId: 'alice',
    items: [{ itemId: 'margherita', quantity: 2 }],
    outbox: { e1: { type: 'order.created', payload: { cardLast4: '4242' } } },
  });
  assert.equal(statement, '{"_id":"?","customerId":"?","items":"?","outbox":"?"}');
});

test('filters nested deeper than the shown depth are masked whole', () => {
  const statement = mongoStatement({ filter: { a: { b: { c: { d: { e: 1 } } } } } });
  assert.equal(statement, '{"a":{"b":{"c":{"d":"?"}}}}');
});
