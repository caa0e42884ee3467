// Proves the project graph: a change to one lib in a scratch commit makes exactly the projects
// that depend on it "affected", so `nx affected -t test` runs what a change touched and no more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

test('changing libs/resilience affects its dependents and nothing else', { timeout: 180_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'oms-affected-'));
  try {
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, scratch]);
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    const git = (...args) => execFileSync('git', ['-C', scratch, ...args], { encoding: 'utf8' });
    git('config', 'user.email', 'ci@oms.local');
    git('config', 'user.name', 'ci');
    appendFileSync(join(scratch, 'libs/resilience/src/classify.ts'), '\n// scratch change\n');
    git('commit', '--quiet', '-am', 'scratch: touch resilience');
    const output = execFileSync(
      join(ROOT, 'node_modules/.bin/nx'),
      ['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '--json'],
      { cwd: scratch, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
    );
    const affected = new Set(JSON.parse(output.slice(output.indexOf('['))));
    for (const name of [
      'resilience',
      'rpc',
      'service-kit',
      'gateway',
      'order',
      'stock',
      'menu',
      'payment',
      'kitchen',
      'system-tests',
    ]) {
      assert.ok(affected.has(name), `${name} should be affected (got ${[...affected].join(', ')})`);
    }
    for (const name of ['config', 'contracts', 'logging', 'telemetry']) {
      assert.ok(!affected.has(name), `${name} must not be affected`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
