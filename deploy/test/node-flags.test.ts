import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'node:test';
import { SERVICE_NODE_FLAGS } from '@oms/testing';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

/** tools/services.mjs is an ES module (npm start runs it without tsx): CommonJS can only import() it. */
async function localFlags(): Promise<string[]> {
  const services = (await import(resolve(ROOT, 'tools/services.mjs'))) as { SERVICE_NODE_FLAGS: string[] };
  return services.SERVICE_NODE_FLAGS;
}

test('every way of starting a service gives it the same V8 flags', async () => {
  assert.ok(SERVICE_NODE_FLAGS.length > 0);
  assert.deepEqual(await localFlags(), SERVICE_NODE_FLAGS, 'npm start (tools/services.mjs)');

  const cmd = /^CMD \["sh", "-c", "exec node (.*) dist\/apps\/\$\{APP\}\/main\.js"\]$/m.exec(
    read('Dockerfile'),
  );
  assert.ok(cmd, 'the Dockerfile starts node with flags before the bundle');
  assert.deepEqual(cmd[1]!.split(' '), SERVICE_NODE_FLAGS, 'the images (Docker, Helm, Nomad docker)');

  const nomad = read('deploy/nomad/oms.nomad.hcl');
  const defaults = /variable "node_flags" \{[^}]*default\s*=\s*(\[[^\]]*\])/.exec(nomad);
  assert.ok(defaults, 'the Nomad job has a node_flags variable');
  assert.deepEqual(JSON.parse(defaults[1]!), SERVICE_NODE_FLAGS, 'Nomad raw_exec');
  assert.match(nomad, /args\s*=\s*concat\(var\.node_flags, \[/, 'raw_exec passes them before the bundle');
});
