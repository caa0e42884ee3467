import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from 'amqplib';
import { assertEventType, decodeEvent, encodeEvent, MalformedEventError, newEvent } from './event';
import {
  copyOptions,
  failedAttempts,
  failureHeaders,
  firstFailureAt,
  REPLAY_HEADERS,
  wasReplayed,
} from './message-copy';
import { eventsExchangeName, subscriptionQueues } from './topology';
import { traceIdFromHeaders } from './tracing';

test('newEvent fills id, version and time; the body round-trips', () => {
  const event = newEvent('order.created', { orderId: 'o-1' });
  assert.match(event.id, /^[0-9a-f-]{36}$/);
  assert.equal(event.version, 1);
  assert.ok(!Number.isNaN(Date.parse(event.occurredAt)));
  assert.deepEqual(decodeEvent(encodeEvent(event)), event);
  assert.equal(newEvent('order.created', {}, 2).version, 2);
});

test('bodies that are not events are refused as malformed', () => {
  for (const body of [
    '{',
    'null',
    '"text"',
    '{"id":"x","type":"t","version":1,"occurredAt":"now"}',
    '{"id":"","type":"t","version":1,"occurredAt":"now","data":1}',
  ]) {
    assert.throws(() => decodeEvent(Buffer.from(body)), MalformedEventError, body);
  }
});

test('event types are routing keys without wildcards', () => {
  assertEventType('order.created');
  assertEventType('checkout_session.completed-v2');
  for (const bad of ['order.*', 'order.#', '', 'order..created', 'order created'])
    assert.throws(() => assertEventType(bad), /invalid event type/);
});

test('names are per deployment and per subscription', () => {
  assert.equal(eventsExchangeName('local'), 'oms.local.events');
  assert.deepEqual(subscriptionQueues('local', 'payment', 'order.created', [1000, 10000]), {
    work: 'local.payment.order.created',
    retries: [
      { queue: 'local.payment.order.created.retry.1', delayMs: 1000 },
      { queue: 'local.payment.order.created.retry.2', delayMs: 10000 },
    ],
    dead: 'local.payment.order.created.dead',
  });
});

test('a copy keeps body properties and trace context, drops broker bookkeeping, and counts attempts', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const message = {
    content: Buffer.from('{}'),
    fields: {},
    properties: {
      messageId: 'e-1',
      type: 'order.paid',
      contentType: 'application/json',
      timestamp: 1700000000,
      headers: { traceparent, 'x-death': [{ count: 1 }], 'x-first-death-queue': 'q', 'x-oms-attempts': 1 },
    },
  } as unknown as Message;
  const retried = copyOptions(message, failureHeaders(2, 'x'.repeat(2000), 1_700_000_000_000));
  assert.equal(retried.persistent, true);
  assert.equal(retried.messageId, 'e-1');
  assert.equal(retried.type, 'order.paid');
  assert.equal(retried.timestamp, 1700000000);
  assert.deepEqual(Object.keys(retried.headers as object).sort(), [
    'traceparent',
    'x-oms-attempts',
    'x-oms-first-failure-at',
    'x-oms-last-error',
  ]);
  assert.equal(firstFailureAt(retried.headers, Date.now()), 1_700_000_000_000);
  assert.equal(firstFailureAt({}, 42), 42, 'no failure yet: it fails now');
  assert.equal(firstFailureAt({ 'x-oms-first-failure-at': 'soon' }, 42), 42);
  assert.equal(failedAttempts(retried.headers), 2);
  assert.equal((retried.headers as Record<string, string>)['x-oms-last-error']!.length, 500);
  assert.equal(traceIdFromHeaders(retried.headers), '0af7651916cd43dd8448eb211c80319c');

  const replayed = copyOptions(message, REPLAY_HEADERS);
  assert.deepEqual(replayed.headers, { traceparent, 'x-oms-replayed': 1 });
  assert.equal(wasReplayed(replayed.headers), true);
  assert.equal(wasReplayed(retried.headers), false);
  assert.equal(failedAttempts(replayed.headers), 0);
  assert.equal(traceIdFromHeaders({}), '');
});
