// In a process of its own: a priority, once lowered, cannot be raised again without privilege.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const probe = (nice: number) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { getPriority } = require('node:os');
         const { raiseEventLoopPriority } = require(${JSON.stringify(join(__dirname, 'cpu-priority.ts'))});
         const logged = [];
         raiseEventLoopPriority(${nice}, { info: (_, m) => logged.push(['info', m]), warn: (_, m) => logged.push(['warn', m]) });
         process.stdout.write(JSON.stringify({ priority: getPriority(), logged }));`,
      ],
      { encoding: 'utf8' },
    ),
  ) as { priority: number; logged: [string, string][] };

test("the event loop's thread takes the configured priority, and says so", () => {
  const { priority, logged } = probe(5);
  assert.equal(priority, 5);
  assert.deepEqual(logged, [['info', 'event loop scheduling priority set']]);
});

test('a priority it may not take leaves the default, with a warning', () => {
  const { priority, logged } = probe(-21);
  assert.equal(priority, 0);
  assert.equal(logged[0]?.[0], 'warn');
});
