import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { InboxRetention } from './inbox-retention';

const HOUR = 3_600_000;

test('every inbox opened forgets what it applied before the retention', async () => {
  const cutoffs: Record<string, Date[]> = {};
  const opened: string[] = [];
  let scheduled = 0;
  const retention = new InboxRetention(
    async (consumer) => {
      opened.push(consumer);
      return {
        forgetAppliedBefore: async (cutoff: Date) => {
          (cutoffs[consumer] ??= []).push(cutoff);
          return 1;
        },
      };
    },
    {
      retentionMs: 7 * 24 * HOUR,
      logger: pino({ level: 'silent' }),
      scheduleCleanup: () => void scheduled++,
    },
  );
  await retention.inbox('order.payment.succeeded');
  await retention.inbox('order.payment.succeeded');
  await retention.inbox('order.ticket.ready');
  assert.deepEqual(opened, ['order.payment.succeeded', 'order.ticket.ready'], 'each opened once');
  assert.equal(scheduled, 1, 'the cleanup is scheduled once, with the first inbox');

  const now = Date.parse('2026-11-29T12:00:00Z');
  await retention.forgetOld(now);
  const weekAgo = new Date(now - 7 * 24 * HOUR);
  assert.deepEqual(cutoffs, {
    'order.payment.succeeded': [weekAgo],
    'order.ticket.ready': [weekAgo],
  });
});

test('an inbox that failed to open is opened again by the next use', async () => {
  let attempts = 0;
  const retention = new InboxRetention(
    async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('database away');
      return { forgetAppliedBefore: async () => 0 };
    },
    { retentionMs: HOUR, logger: pino({ level: 'silent' }), scheduleCleanup: () => undefined },
  );
  await assert.rejects(retention.inbox('stock.order.paid'), /database away/);
  await retention.inbox('stock.order.paid');
  assert.equal(attempts, 2);
});
