import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ConfigError, loadConfig, refuseLocalDefaultsInProduction } from './load-config';
import { BaseServiceConfig } from './base-config';

const schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  MODE: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
  TOKEN: Type.String({ minLength: 8, secret: true }),
});

test('defaults apply and numbers are converted', () => {
  assert.deepEqual(loadConfig(schema, { TOKEN: 'abcdefgh', PORT: '9090' }), {
    PORT: 9090,
    MODE: 'a',
    TOKEN: 'abcdefgh',
  });
});

test('one error lists every offending variable, naming each', () => {
  try {
    loadConfig(schema, { PORT: 'eighty', MODE: 'c' });
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 3);
    assert.match(error.message, /PORT must be an integer 0\.\.65535 \(got "eighty"\)/);
    assert.match(error.message, /MODE must be one of "a", "b" \(got "c"\)/);
    assert.match(error.message, /TOKEN is required/);
  }
});

test('a secret is never echoed in the message', () => {
  assert.throws(
    () => loadConfig(schema, { TOKEN: 'short' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      !error.message.includes('short') &&
      error.message.includes('<redacted>'),
  );
});

test('the shared service config loads with no variables at all', () => {
  const config = loadConfig(BaseServiceConfig, {});
  assert.equal(config.CONSUL_URL, 'http://127.0.0.1:8500');
  assert.equal(config.OMS_ENV, 'local');
  assert.throws(
    () => loadConfig(BaseServiceConfig, { CONSUL_URL: 'not a url', RPC_TIMEOUT_MS: '0' }),
    /CONSUL_URL[\s\S]*RPC_TIMEOUT_MS/,
  );
});

test('production refuses local default secrets, development accepts them', () => {
  const local = { ADMIN_TOKEN: 'oms-local-admin' };
  assert.throws(
    () => refuseLocalDefaultsInProduction({ NODE_ENV: 'production' }, local, {}),
    /ADMIN_TOKEN must be set explicitly/,
  );
  assert.throws(
    () =>
      refuseLocalDefaultsInProduction({ NODE_ENV: 'production' }, local, { ADMIN_TOKEN: 'oms-local-admin' }),
    ConfigError,
  );
  refuseLocalDefaultsInProduction({ NODE_ENV: 'production' }, local, { ADMIN_TOKEN: 'a-real-secret' });
  refuseLocalDefaultsInProduction({ NODE_ENV: 'development' }, local, {});
});
