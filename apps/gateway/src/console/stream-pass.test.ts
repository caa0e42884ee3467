import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieValue, streamPasses } from './stream-pass';

test('a pass admits until it expires, and only under the token that issued it', () => {
  const passes = streamPasses('admin-token', 60_000);
  const { value, expiresAt } = passes.issue(1_000);
  assert.equal(expiresAt, 61_000);
  assert.equal(passes.verify(value, 60_999), true);
  assert.equal(passes.verify(value, 61_000), false);
  assert.equal(streamPasses('another-token', 60_000).verify(value, 2_000), false);
});

test('a changed expiry, a forged signature or nothing at all is refused', () => {
  const passes = streamPasses('admin-token', 60_000);
  const { value } = passes.issue(1_000);
  const [, signature] = value.split('.');
  for (const forged of [`99999999.${signature}`, `${value}x`, value.slice(0, -2), 'abc', '', undefined])
    assert.equal(passes.verify(forged, 2_000), false, String(forged));
});

test('one cookie out of a Cookie header', () => {
  assert.equal(cookieValue('a=1; oms_console_stream=v.s; b=2', 'oms_console_stream'), 'v.s');
  assert.equal(cookieValue('xoms_console_stream=1', 'oms_console_stream'), undefined);
  assert.equal(cookieValue(undefined, 'oms_console_stream'), undefined);
});
