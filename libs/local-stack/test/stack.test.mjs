// The stack tool against the real components: `up` (twice at once, through the lock), `status`,
// and an independent connection to each component. Leaves the stack up (never calls `down`).
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { componentAddresses, status, up } from '../src/index.mjs';
import { answeringOnItsPorts } from '../src/stack.mjs';
import { DEFAULT_ADDRESSES, orphanedNomadAgents, redact } from '../src/components.mjs';
import {
  FERRETDB_DATABASE,
  FERRETDB_POOL_MAX_CONNS,
  POSTGRES_MAX_CONNECTIONS,
  postgresBinDirs,
  psql,
} from '../src/postgres.mjs';
import { commandLine } from '../src/proc.mjs';

const require = createRequire(import.meta.url);
const COMPONENTS = ['consul', 'rabbitmq', 'postgres', 'mongo', 'jaeger', 'stripe-mock'];
const addresses = componentAddresses();
const clients = [];
/** The stack's MongoDB-wire server is FerretDB on the stack's PostgreSQL (not a mongod, not an override). */
let onFerretdb = false;

before(async () => {
  // two callers at once (as parallel test runs do): the lock serializes them and both see it all up
  const results = await Promise.all([up({ quiet: true }), up({ quiet: true })]);
  for (const result of results) {
    const byName = Object.fromEntries(result.components.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName), COMPONENTS);
    onFerretdb = byName.postgres.status !== 'skipped';
    // PostgreSQL is there exactly when FerretDB is
    assert.equal(onFerretdb, /^ferretdb/.test(byName.mongo.server ?? ''), JSON.stringify(byName.mongo));
    for (const c of result.components)
      if (c.name !== 'postgres' || onFerretdb) assert.equal(c.status, 'up', c.name);
  }
});

after(async () => {
  await Promise.all(clients.map((close) => close().catch(() => {})));
});

test('status reports every component up, each reused or started by the stack', async () => {
  const { components, env } = await status({ quiet: true });
  assert.deepEqual(
    components.map((c) => c.name),
    COMPONENTS,
  );
  for (const c of components) {
    if (c.name === 'postgres' && !onFerretdb) {
      assert.equal(c.status, 'skipped');
      continue;
    }
    assert.equal(c.status, 'up', `${c.name} is up`);
    assert.ok(['reused', 'started'].includes(c.mode), `${c.name} mode ${c.mode}`);
    if (c.mode === 'started') assert.ok(Number.isInteger(c.pid) && c.pid > 0, `${c.name} has a pid`);
    else assert.equal(c.pid, null, `${c.name} was reused: no pid of ours`);
  }
  assert.deepEqual(env, addresses);
});

test('a second up changes nothing and is quick', async () => {
  const before = await status({ quiet: true });
  const t0 = Date.now();
  const again = await up({ quiet: true });
  assert.ok(Date.now() - t0 < 10_000, `warm up took ${Date.now() - t0}ms`);
  assert.deepEqual(
    again.components.map(({ name, mode, pid }) => ({ name, mode, pid })),
    before.components.map(({ name, mode, pid }) => ({ name, mode, pid })),
  );
});

test('consul: the agent has a leader and a catalog', async () => {
  const leader = await (await fetch(new URL('/v1/status/leader', addresses.CONSUL_URL))).json();
  assert.match(leader, /:\d+$/);
  const services = await (await fetch(new URL('/v1/catalog/services', addresses.CONSUL_URL))).json();
  assert.ok('consul' in services);
});

test('rabbitmq: a channel can declare and delete a queue', async () => {
  const amqp = require('amqplib');
  const conn = await amqp.connect(addresses.AMQP_URL, { timeout: 3_000 });
  clients.push(() => conn.close());
  const channel = await conn.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  assert.match(queue, /^amq\.gen-/);
  await channel.deleteQueue(queue);
});

test('mongo: a document round-trips', async () => {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(addresses.MONGO_URL, { serverSelectionTimeoutMS: 3_000 });
  clients.push(() => client.close());
  const collection = client.db('stack_tool_test').collection('probe');
  const { insertedId } = await collection.insertOne({ at: new Date() });
  assert.ok(await collection.findOne({ _id: insertedId }));
  await collection.deleteOne({ _id: insertedId });
});

test("mongo on FerretDB: its PostgreSQL is the stack's, and its pool is sized on purpose", async (t) => {
  if (!onFerretdb) return t.skip('mongo is not FerretDB here');
  const { components } = await status({ quiet: true });
  const pg = components.find((c) => c.name === 'postgres');
  const mongo = components.find((c) => c.name === 'mongo');
  const port = Number(/:(\d+)/.exec(pg.where)[1]);
  const binDir = postgresBinDirs()[0];
  assert.equal(
    await psql(binDir, port, FERRETDB_DATABASE, ['-c', 'SHOW max_connections']),
    String(POSTGRES_MAX_CONNECTIONS),
  );
  assert.equal(
    await psql(binDir, port, FERRETDB_DATABASE, [
      '-c',
      `SELECT count(*) FROM pg_event_trigger WHERE evtname = 'oms_stack_on_ddl'`,
    ]),
    '1',
  );
  if (mongo.pid) {
    const argv = commandLine(mongo.pid).join(' ');
    // over the cluster's Unix socket: a pool of TCP connections would hold ports from the ephemeral
    // range, where the services' fixed ports are
    assert.match(argv, new RegExp(`--postgresql-url=postgres://\\S+@/${FERRETDB_DATABASE}\\?\\S*host=%2F`));
    assert.match(argv, new RegExp(`[?&]port=${port}\\b`));
    assert.match(argv, new RegExp(`pool_max_conns=${FERRETDB_POOL_MAX_CONNS}\\b`));
  }
});

/** A collection in a database of this test's own, on the stack's MongoDB-wire server; the client closes after. */
function scratchCollection(prefix, name) {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(addresses.MONGO_URL, {
    serverSelectionTimeoutMS: 3_000,
    retryWrites: false,
  });
  clients.push(() => client.close());
  const dbName = `${prefix}_${process.pid}`;
  return { client, dbName, collection: client.db(dbName).collection(name) };
}

test('mongo on FerretDB: a versioned write that raced is refused, and _id lookups use the _id index', async (t) => {
  if (!onFerretdb) return t.skip('mongo is not FerretDB here');
  const { client, dbName, collection } = scratchCollection('stack_tool_test', 'versioned');
  try {
    await collection.insertOne({ _id: 'a', n: 1, v: 0 });
    await collection.updateOne({ _id: 'a' }, { $inc: { n: 1, v: 1 } });
    // a write that does not move v by one is what a lost race looks like: refused
    await assert.rejects(collection.updateOne({ _id: 'a' }, { $set: { n: 5 } }), (err) => {
      assert.equal(err.name, 'MongoServerError');
      assert.match(err.message, /write conflict: document version moved .*\(SQLSTATE 40001\)/);
      return true;
    });
    assert.deepEqual(await collection.findOne({ _id: 'a' }), { _id: 'a', n: 2, v: 1 });

    // FerretDB's explain shows PostgreSQL's plan for the statement FerretDB itself sends
    const explained = await client
      .db(dbName)
      .command({ explain: { find: 'versioned', filter: { _id: 'a' } } });
    assert.equal(explained.filterPushdown, true);
    assert.equal(explained.queryPlanner.Plan['Node Type'], 'Index Scan');
    assert.match(explained.queryPlanner.Plan['Index Name'], /^versioned_\w+__id__\w+_idx$/);
  } finally {
    await client.db(dbName).dropDatabase();
  }
});

test('mongo on FerretDB: $in on _id is served by the _id index and finds what MongoDB finds', async (t) => {
  if (!onFerretdb) return t.skip('mongo is not FerretDB here');
  const { client, dbName, collection } = scratchCollection('stack_tool_in', 'many');
  try {
    const { ObjectId } = require('mongodb');
    const objectId = new ObjectId();
    await collection.insertMany([
      ...Array.from({ length: 50 }, (_, i) => ({ _id: `d${i}`, n: i })),
      { _id: objectId, n: 50 },
      { _id: 7, n: 51 },
    ]);
    const ids = (filter) =>
      collection
        .find(filter)
        .toArray()
        .then((docs) => docs.map((d) => String(d._id)).sort());
    // strings and an ObjectID, one of them missing, one repeated
    assert.deepEqual(
      await ids({ _id: { $in: ['d3', 'd41', 'nope', 'd3', objectId] } }),
      ['d3', 'd41', String(objectId)].sort(),
    );
    // a value that is not a string or an ObjectID leaves the filter to FerretDB, with the same answer
    assert.deepEqual(await ids({ _id: { $in: ['d1', 7] } }), ['7', 'd1']);
    // the rest of the filter still applies to what the index found
    assert.deepEqual(await ids({ _id: { $in: ['d1', 'd2'] }, n: 2 }), ['d2']);

    // the stack's FerretDB pushes it down (ferretdb-v1.24.2.patch): upstream read the whole collection
    const explained = await client
      .db(dbName)
      .command({ explain: { find: 'many', filter: { _id: { $in: ['d3', 'd41'] } } } });
    // an Index Scan, or a Bitmap Heap Scan over a Bitmap Index Scan: either way the _id index, no Seq Scan
    const nodes = (plan) => [plan, ...(plan.Plans ?? []).flatMap(nodes)];
    const plan = nodes(explained.queryPlanner.Plan);
    assert.ok(!plan.some((node) => node['Node Type'] === 'Seq Scan'), JSON.stringify(plan));
    assert.ok(
      plan.some((node) => /^many_\w+__id__\w+_idx$/.test(node['Index Name'] ?? '')),
      JSON.stringify(plan),
    );
  } finally {
    await client.db(dbName).dropDatabase();
  }
});

test('mongo on FerretDB: equality filters find the same documents with any field name', async (t) => {
  if (!onFerretdb) return t.skip('mongo is not FerretDB here');
  const { client, dbName, collection } = scratchCollection('stack_tool_keys', 'keyed');
  try {
    // the stack's FerretDB writes field names into its SQL as constants (ferretdb-v1.24.2.patch):
    // quotes, commas and braces in them must not change what a filter finds. (FerretDB v1 cannot
    // store a field name with a double quote or a backslash at all: its insert fails.)
    const names = ['status', "it's", "'); DROP TABLE x; --", 'a,b', '{x}'];
    await collection.createIndexes(names.map((name) => ({ key: { [name]: 1 } })));
    await collection.createIndex({ 'nested.k': 1 });
    await collection.insertMany(
      [1, 2, 3].map((i) => ({
        _id: `d${i}`,
        ...Object.fromEntries(names.map((name) => [name, `v${i % 2}`])),
        nested: { k: `n${i}` },
      })),
    );
    for (const name of names) {
      const found = await collection.find({ [name]: 'v1' }).toArray();
      assert.deepEqual(found.map((d) => d._id).sort(), ['d1', 'd3'], `filter on ${JSON.stringify(name)}`);
    }
    assert.deepEqual(
      (await collection.find({ 'nested.k': 'n2' }).toArray()).map((d) => d._id),
      ['d2'],
    );
  } finally {
    await client.db(dbName).dropDatabase();
  }
});

test('jaeger: the query API answers and the OTLP gRPC and HTTP receivers listen', async () => {
  const res = await fetch(new URL('/api/services', addresses.JAEGER_QUERY_URL));
  assert.equal(res.status, 200);
  assert.ok('data' in (await res.json()));
  const otlp = new URL(addresses.OTEL_EXPORTER_OTLP_ENDPOINT);
  await connects(otlp.hostname, Number(otlp.port || 4317));
  // a span exported over OTLP/HTTP shows up in the query API: it is a trace backend, not just open ports
  const serviceName = `stack-tool-test-${process.pid}-${Date.now()}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const exported = await fetch(`http://${otlp.hostname}:4318/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: randomBytes(16).toString('hex'),
                  spanId: randomBytes(8).toString('hex'),
                  name: 'probe',
                  kind: 1,
                  startTimeUnixNano: String(now - 1_000_000n),
                  endTimeUnixNano: String(now),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  assert.equal(exported.status, 200);
  const deadline = Date.now() + 10_000;
  let services = [];
  while (Date.now() < deadline && !services.includes(serviceName)) {
    services = (await (await fetch(new URL('/api/services', addresses.JAEGER_QUERY_URL))).json()).data ?? [];
    if (!services.includes(serviceName)) await sleep(100);
  }
  assert.ok(services.includes(serviceName), `${serviceName} reached Jaeger`);
});

test('stripe-mock: the Stripe API answers with its real shapes', async () => {
  const res = await fetch(new URL('/v1/customers', addresses.STRIPE_API_URL), {
    headers: { Authorization: 'Bearer sk_test_123' },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).object, 'list');
  const unauthorized = await fetch(new URL('/v1/customers', addresses.STRIPE_API_URL));
  assert.equal(unauthorized.status, 401);
});

test('an address override that does not answer fails with one clear message', async () => {
  const env = { ...process.env, STRIPE_API_URL: 'http://127.0.0.1:9' };
  await assert.rejects(up({ quiet: true, env }), (err) => {
    assert.equal(err.name, 'StackError');
    assert.deepEqual(
      err.failures.map((f) => f.name),
      ['stripe-mock'],
    );
    assert.match(err.message, /STRIPE_API_URL points at .*127\.0\.0\.1:9.* does not answer/);
    return true;
  });
});

test('an address override that answers is reused, never claimed as started', async () => {
  const consulUrl = new URL(addresses.CONSUL_URL);
  if (consulUrl.hostname !== '127.0.0.1') return; // only meaningful for the local default
  const env = { ...process.env, CONSUL_URL: `http://localhost:${consulUrl.port || 8500}` };
  const result = await up({ quiet: true, env });
  const consul = result.components.find((c) => c.name === 'consul');
  assert.equal(consul.mode, 'reused');
  assert.equal(consul.pid, null);
  assert.equal(result.env.CONSUL_URL, env.CONSUL_URL);
});

test('an overridden MONGO_URL gets no PostgreSQL, and leaves ours running', async () => {
  const mongoUrl = new URL(addresses.MONGO_URL);
  if (mongoUrl.hostname !== '127.0.0.1') return; // only meaningful for the local default
  const before = await status({ quiet: true });
  const env = { ...process.env, MONGO_URL: `mongodb://localhost:${mongoUrl.port || 27017}` };
  const result = await up({ quiet: true, env, only: ['mongo'] });
  assert.deepEqual(
    result.components.map(({ name, status, mode }) => ({ name, status, mode })),
    [
      { name: 'postgres', status: 'skipped', mode: '-' },
      { name: 'mongo', status: 'up', mode: 'reused' },
    ],
  );
  assert.match(result.components[0].where, /MONGO_URL points at another server/);
  const after = await status({ quiet: true });
  assert.deepEqual(
    after.components.map(({ name, status, pid }) => ({ name, status, pid })),
    before.components.map(({ name, status, pid }) => ({ name, status, pid })),
  );
});

test('componentAddresses: defaults, overrides, and passwords kept out of output', () => {
  assert.deepEqual(componentAddresses({}), { ...DEFAULT_ADDRESSES });
  assert.equal(componentAddresses({ MONGO_URL: '  ' }).MONGO_URL, DEFAULT_ADDRESSES.MONGO_URL);
  assert.equal(componentAddresses({ MONGO_URL: 'mongodb://db:27017' }).MONGO_URL, 'mongodb://db:27017');
  assert.equal(redact('amqp://app:s3cret@mq:5672'), 'amqp://app:***@mq:5672');
  assert.equal(redact('amqp://guest:guest@127.0.0.1:5672'), 'amqp://guest:guest@127.0.0.1:5672');
});

function connects(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      socket.end();
      resolve();
    });
    socket.setTimeout(2_000, () => socket.destroy(new Error(`timeout connecting to ${host}:${port}`)));
    socket.on('error', reject);
  });
}

test('a Nomad agent whose checkout is gone is found as orphaned; one whose files are there is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-nomad-'));
  writeFileSync(join(dir, 'agent.hcl'), '');
  // Stand-ins with a Nomad agent's command line (argv[0] nomad-…, `agent`, `-config <file>`).
  const agent = (config) =>
    spawn(
      'bash',
      [
        '-c',
        `exec -a nomad-v0 "${process.execPath}" -e 'setTimeout(() => {}, 60000)' agent -dev -config ${config}`,
      ],
      {
        stdio: 'ignore',
      },
    );
  const kept = agent(join(dir, 'agent.hcl'));
  const orphan = agent(join(dir, 'gone', 'agent.hcl'));
  t.after(() => {
    kept.kill();
    orphan.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const execd = () => [kept, orphan].every((child) => commandLine(child.pid)[0] === 'nomad-v0');
  const deadline = Date.now() + 10_000;
  while (!execd() && Date.now() < deadline) await sleep(50);
  const found = orphanedNomadAgents().filter(({ pid }) => pid === kept.pid || pid === orphan.pid);
  assert.deepEqual(found, [{ pid: orphan.pid, dataDir: join(dir, 'gone', 'data') }]);
});

test('a component on its port that misses a probe or two is reused; one that never passes is named as what holds the port', async () => {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const component = (probe) => ({
    name: 'broker',
    probeLabel: 'a login',
    envVars: ['BROKER_URL'],
    ports: () => [{ host: '127.0.0.1', port }],
    probe,
  });
  try {
    let probes = 0;
    const busyAtFirst = component(async () => (++probes >= 3 ? { version: '1' } : false));
    const found = await answeringOnItsPorts(busyAtFirst, {}, 5_000);
    assert.equal(found?.mode, 'reused');
    assert.deepEqual(found?.info, { version: '1' });
    assert.equal(probes, 3);

    await assert.rejects(
      answeringOnItsPorts(
        component(async () => false),
        {},
        1_000,
      ),
      new RegExp(
        `127\\.0\\.0\\.1:${port} is taken by a process that is not a healthy broker \\(a login failed\\)`,
      ),
    );
  } finally {
    server.close();
  }
  const free = component(async () => false);
  assert.equal(await answeringOnItsPorts(free, {}, 1_000), undefined, 'a closed port: nothing there');
});
