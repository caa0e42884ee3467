// The arithmetic behind the views: time spent in each step, money and durations, span layout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, money, timeline } from '../src/format';
import { waterfall } from '../src/waterfall';

describe('timeline', () => {
  const history = [
    { status: 'pending', at: '2026-01-01T10:00:00.000Z' },
    { status: 'awaiting_payment', at: '2026-01-01T10:00:00.250Z' },
    { status: 'paid', at: '2026-01-01T10:00:05.250Z' },
  ];

  test('each step lasts until the next; the current one until now', () => {
    const now = Date.parse('2026-01-01T10:00:07.250Z');
    assert.deepEqual(
      timeline(history, now).map(({ status, spentMs, current }) => [status, spentMs, current]),
      [
        ['pending', 250, false],
        ['awaiting_payment', 5000, false],
        ['paid', 2000, true],
      ],
    );
  });

  test('an order that ended spends no time in its last step', () => {
    const ended = [...history, { status: 'ready', at: '2026-01-01T10:00:09.000Z' }];
    const last = timeline(ended, Date.parse('2026-01-02T00:00:00Z')).at(-1)!;
    assert.deepEqual([last.status, last.spentMs, last.current], ['ready', 0, false]);
  });
});

test('durations and money read as a person would say them', () => {
  assert.equal(duration(850), '850 ms');
  assert.equal(duration(12_340), '12.3 s');
  assert.equal(duration(245_000), '4 min 05 s');
  assert.equal(duration(7_380_000), '2 h 03 min');
  assert.equal(money(2500, 'usd'), '$25.00');
});

describe('waterfall', () => {
  const span = (spanId: string, parentSpanId: string | null, startMs: number, durationMs: number) => ({
    spanId,
    parentSpanId,
    startMs,
    durationMs,
  });

  test('children under their parent, siblings by start, bars in % of the trace', () => {
    const rows = waterfall(
      [
        span('c2', 'root', 60, 20),
        span('root', null, 0, 100),
        span('c1', 'root', 10, 40),
        span('g', 'c1', 20, 10),
      ],
      100,
    );
    assert.deepEqual(
      rows.map(({ span: { spanId }, depth }) => [spanId, depth]),
      [
        ['root', 0],
        ['c1', 1],
        ['g', 2],
        ['c2', 1],
      ],
    );
    assert.deepEqual(
      rows.map(({ offsetPercent, widthPercent }) => [offsetPercent, widthPercent]),
      [
        [0, 100],
        [10, 40],
        [20, 10],
        [60, 20],
      ],
    );
  });

  test('a span whose parent is not in the trace is a root; a zero-length span stays visible', () => {
    const rows = waterfall([span('orphan', 'elsewhere', 5, 0), span('root', null, 0, 10)], 10);
    assert.deepEqual(
      rows.map(({ span: { spanId }, depth }) => [spanId, depth]),
      [
        ['root', 0],
        ['orphan', 0],
      ],
    );
    assert.ok(rows[1]!.widthPercent > 0);
  });
});
