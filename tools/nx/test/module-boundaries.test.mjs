// Proves the lint rules of eslint.config.mjs on code written for the occasion: which imports the
// project tags allow (@nx/enforce-module-boundaries), and the 80-line limit on functions.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import devkit from '@nx/devkit';

const ROOT = resolve(import.meta.dirname, '../../..');
const BOUNDARIES = '@nx/enforce-module-boundaries';
let eslint;

before(async () => {
  // The rule reads the project graph from Nx's cache and skips itself when there is none: build it.
  process.env.NX_DAEMON = 'false';
  await devkit.createProjectGraphAsync({ exitOnError: false });
  eslint = new ESLint({ cwd: ROOT, overrideConfigFile: join(ROOT, 'eslint.config.mjs') });
});

/** The messages of `ruleId` for `code` as if it were the file at `file` (relative to the root). */
async function messagesOf(ruleId, code, file) {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  assert.equal(result.fatalErrorCount, 0, JSON.stringify(result.messages));
  return result.messages.filter((m) => m.ruleId === ruleId).map((m) => m.message);
}

test('a lib that imports an app by a relative path is refused', async () => {
  const messages = await messagesOf(
    BOUNDARIES,
    "import { buildApp } from '../../../apps/gateway/src/app';\nexport const app = buildApp;\n",
    'libs/domain/src/uses-gateway.ts',
  );
  assert.deepEqual(messages, [
    'Projects cannot be imported by a relative or absolute path, and must begin with a npm scope',
  ]);
});

test('a lib that imports another lib through its alias passes', async () => {
  const messages = await messagesOf(
    BOUNDARIES,
    "import { loadConfig } from '@oms/config';\nexport const load = loadConfig;\n",
    'libs/domain/src/uses-config.ts',
  );
  assert.deepEqual(messages, []);
});

test('test support is refused in code that ships and allowed in its tests', async () => {
  const code = "import { waitFor } from '@oms/testing';\nexport const wait = waitFor;\n";
  for (const file of ['libs/config/src/uses-testing.ts', 'apps/order/src/uses-testing.ts']) {
    const messages = await messagesOf(BOUNDARIES, code, file);
    assert.equal(messages.length, 1, `${file}: ${JSON.stringify(messages)}`);
    assert.match(
      messages[0],
      /^A project tagged with "type:(lib|app)" can only depend on libs tagged with "type:lib"$/,
    );
  }
  for (const file of [
    'libs/config/src/uses-testing.test.ts',
    'apps/order/test/support.ts',
    'tools/bench/uses-testing.ts',
  ]) {
    assert.deepEqual(await messagesOf(BOUNDARIES, code, file), [], file);
  }
});

test('the local stack is test support too: libs/testing may use it, a lib may not', async () => {
  const code = "import { up } from '@oms/local-stack';\nexport const start = up;\n";
  assert.deepEqual(await messagesOf(BOUNDARIES, code, 'libs/testing/src/uses-stack.ts'), []);
  const messages = await messagesOf(BOUNDARIES, code, 'libs/messaging/src/uses-stack.ts');
  assert.deepEqual(messages, [
    'A project tagged with "type:lib" can only depend on libs tagged with "type:lib"',
  ]);
});

test('a function longer than 80 lines fails outside tests and passes in them', async () => {
  const body = Array.from({ length: 81 }, (_, i) => `  total += ${i};`).join('\n');
  const code = `export function long(): number {\n  let total = 0;\n${body}\n  return total;\n}\n`;
  const rule = 'max-lines-per-function';
  const [message] = await messagesOf(rule, code, 'libs/domain/src/long.ts');
  assert.match(message ?? '', /Function 'long' has too many lines \(85\)\. Maximum allowed is 80/);
  assert.deepEqual(await messagesOf(rule, code, 'libs/domain/src/long.test.ts'), []);
  assert.deepEqual(await messagesOf(rule, code, 'libs/contracts/src/generated/long.ts'), []);
});
