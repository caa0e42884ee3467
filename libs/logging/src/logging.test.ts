import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './index';

test('every line is JSON with service and instance, and secrets are redacted', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()),
  });
  const logger = createLogger({ service: 'order', instance: 'order-1', destination });
  logger.info(
    { headers: { authorization: 'Bearer s3cret' }, card: '4242', customer: { token: 'tok_1' } },
    'hello',
  );
  const text = lines.at(-1)!;
  const entry = JSON.parse(text) as Record<string, unknown>;
  assert.equal(entry.service, 'order');
  assert.equal(entry.instance, 'order-1');
  assert.equal(entry.level, 'info');
  for (const secret of ['s3cret', '4242', 'tok_1'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
});
