// The stack's PostgreSQL and what ferretdb.sql adds to it, on a throwaway cluster of this test's
// own (its own folder and port; stopped at the end). The tables and indexes are created with the
// very statements FerretDB v1.24.2 runs (internal/backends/postgresql/metadata/registry.go), so
// this needs no FerretDB; stack.test.mjs checks the same through the real FerretDB.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  binariesFor,
  dataDirFor,
  FERRETDB_DATABASE,
  FERRETDB_POOL_MAX_CONNS,
  initCluster,
  PostgresMissingError,
  postgresBinDirs,
  postgresHealthy,
  POSTGRES_MAX_CONNECTIONS,
  prepareFerretdbDatabase,
  psql,
  serverAccount,
  serverArgs,
} from '../src/postgres.mjs';
import { isAlive, pollUntil, spawnDetached, stopProcess } from '../src/proc.mjs';

test('without PostgreSQL server binaries the stack says what to install', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'oms-no-pg-'));
  try {
    assert.deepEqual(postgresBinDirs({ libDir: empty, pathEnv: empty }), []);
    assert.throws(
      () => binariesFor(path.join(empty, 'data'), { libDir: empty, pathEnv: empty }),
      (err) => {
        assert.ok(err instanceof PostgresMissingError);
        assert.match(err.message, /PostgreSQL's server binaries/);
        assert.match(err.message, /apt-get install postgresql/);
        return true;
      },
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test('the pool is sized inside the server limit, above the clients that can be in flight', () => {
  // 300: the persistence contract suite's client; 6 x 10: a running system's services
  assert.ok(FERRETDB_POOL_MAX_CONNS > 300 + 6 * 10);
  assert.ok(POSTGRES_MAX_CONNECTIONS >= FERRETDB_POOL_MAX_CONNS + 10);
});

const binDir = postgresBinDirs()[0];

describe('a cluster with ferretdb.sql installed', { skip: !binDir && 'no PostgreSQL binaries here' }, () => {
  let dir;
  let port;
  let server;
  const sql = (query, database = FERRETDB_DATABASE) => psql(binDir, port, database, ['-c', query]);
  /** The error psql reports for a statement, with its SQLSTATE (VERBOSITY verbose). */
  const sqlError = (query) =>
    psql(binDir, port, FERRETDB_DATABASE, ['-v', 'VERBOSITY=verbose', '-c', query]).then(
      () => assert.fail(`no error from ${query}`),
      (err) => err.message,
    );

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oms-pg-test-'));
    fs.chmodSync(dir, 0o755);
    const account = serverAccount();
    const dataDir = dataDirFor(dir, account);
    const logFile = path.join(dir, 'postgres.log');
    assert.equal(initCluster({ dataDir, binDir, account, logFile }), true);
    assert.equal(initCluster({ dataDir, binDir, account, logFile }), false, 'initdb runs once');
    port = await freePort();
    server = spawnDetached(path.join(binDir, 'postgres'), serverArgs({ dataDir, port }), {
      logFile,
      cwd: dir,
      account,
    });
    const info = await pollUntil(() => postgresHealthy(port, binDir), { timeoutMs: 30_000, intervalMs: 200 });
    assert.ok(info, `PostgreSQL did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
    // FerretDB's first database and collection, created before the install (a data folder from before)
    await sql(`CREATE DATABASE ${FERRETDB_DATABASE}`, 'postgres');
    await ferretdbCollection('early', 'items_00000001');
    await prepareFerretdbDatabase({ port, binDir });
  });

  after(async () => {
    if (server?.pid) assert.equal(await stopProcess(server.pid, { signal: 'SIGINT' }), 'stopped');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The statements FerretDB runs for a new database and collection (registry.go). */
  async function ferretdbCollection(db, table) {
    await sql(`CREATE SCHEMA IF NOT EXISTS "${db}"`);
    await sql(`CREATE TABLE IF NOT EXISTS "${db}"."_ferretdb_database_metadata" (_jsonb jsonb)`);
    await sql(
      `CREATE UNIQUE INDEX IF NOT EXISTS "_ferretdb_database_metadata_id_idx" ON "${db}"."_ferretdb_database_metadata" (((_jsonb->'_id')))`,
    );
    await sql(
      `CREATE UNIQUE INDEX IF NOT EXISTS "_ferretdb_database_metadata_table_idx" ON "${db}"."_ferretdb_database_metadata" (((_jsonb->'table')))`,
    );
    await sql(`CREATE TABLE "${db}"."${table}" (_jsonb jsonb)`);
    await sql(`CREATE UNIQUE INDEX "${table}__id__67399184_idx" ON "${db}"."${table}" (((_jsonb->'_id')))`);
  }

  const triggers = (db) =>
    sql(
      `SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${db}' AND t.tgname = 'oms_version_check'`,
    );
  const ginIndexes = (db) =>
    sql(
      `SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes
        WHERE schemaname = '${db}' AND indexdef LIKE '%USING gin%'`,
    );

  test('the server runs with the connection limit, plan mode and compression the stack sets', async () => {
    assert.equal(await sql('SHOW max_connections'), String(POSTGRES_MAX_CONNECTIONS));
    assert.equal(await sql('SHOW plan_cache_mode'), 'auto');
    assert.equal(await sql('SHOW default_toast_compression'), 'lz4');
    assert.equal(await sql('SHOW listen_addresses'), '127.0.0.1');
  });

  test('installing again changes nothing', async () => {
    const before = await sql(`SELECT count(*) FROM pg_indexes WHERE schemaname NOT LIKE 'pg_%'`);
    await prepareFerretdbDatabase({ port, binDir });
    await prepareFerretdbDatabase({ port, binDir });
    assert.equal(await sql(`SELECT count(*) FROM pg_indexes WHERE schemaname NOT LIKE 'pg_%'`), before);
    assert.equal(await sql(`SELECT count(*) FROM pg_event_trigger WHERE evtname = 'oms_stack_on_ddl'`), '1');
  });

  test('a collection table that existed before the install got the version check', async () => {
    assert.equal(await triggers('early'), 'items_00000001');
    // its only index is the one on _id, which FerretDB's equality on _id uses as it is
    assert.equal(await ginIndexes('early'), '');
  });

  test("an earlier install's GIN indexes are made again: none on _id, partial on other keys", async () => {
    const t = 'early.items_00000001';
    await sql(
      `CREATE INDEX items_00000001__id__67399184_gin ON ${t} USING gin ((_jsonb -> '_id') jsonb_path_ops)`,
    );
    await sql(`CREATE INDEX items_00000001_kind___0000cafe_idx ON ${t} (((_jsonb -> 'kind')))`);
    await sql(`DROP INDEX early.items_00000001_kind___0000cafe_gin`);
    await sql(
      `CREATE INDEX items_00000001_kind___0000cafe_gin ON ${t} USING gin ((_jsonb -> 'kind') jsonb_path_ops) WITH (fastupdate = off)`,
    );
    await prepareFerretdbDatabase({ port, binDir });
    assert.equal(
      await ginIndexes('early'),
      `CREATE INDEX items_00000001_kind___0000cafe_gin ON early.items_00000001 USING gin (((_jsonb -> 'kind'::text)) jsonb_path_ops) WITH (fastupdate=off) WHERE ((_jsonb -> 'kind'::text) IS NOT NULL)`,
    );
  });

  test('new collection tables get the version check; FerretDB metadata and other tables do not', async () => {
    await ferretdbCollection('shop', 'orders_0a1b2c3d');
    await sql(`CREATE TABLE public.plain (_jsonb jsonb)`);
    assert.equal(await triggers('shop'), 'orders_0a1b2c3d');
    assert.equal(await triggers('public'), '');
  });

  test('each btree index but _id gets one GIN index on its first key, as FerretDB queries it', async () => {
    const t = 'shop.orders_0a1b2c3d';
    await sql(
      `CREATE INDEX "orders_status___at___3ab9e47c_idx" ON ${t} (((_jsonb->'status')), ((_jsonb->'at')) DESC)`,
    );
    await sql(`CREATE INDEX "orders_second_abf8d4dd_idx" ON ${t} (((_jsonb->'status')))`); // same first key
    await sql(`CREATE INDEX "orders_a_b___a7f71248_idx" ON ${t} ((((_jsonb->'a') -> 'b')))`);
    await sql(`CREATE INDEX "orders_it_s___0000beef_idx" ON ${t} (((_jsonb->'it''s')))`);
    await sql(`CREATE INDEX "plain_idx" ON public.plain (((_jsonb->'x')))`);
    assert.equal(
      await ginIndexes('shop'),
      [
        `CREATE INDEX orders_a_b___a7f71248_gin ON shop.orders_0a1b2c3d USING gin (((_jsonb #> '{a,b}'::text[])) jsonb_path_ops) WITH (fastupdate=off) WHERE ((_jsonb #> '{a,b}'::text[]) IS NOT NULL)`,
        `CREATE INDEX orders_it_s___0000beef_gin ON shop.orders_0a1b2c3d USING gin (((_jsonb -> 'it''s'::text)) jsonb_path_ops) WITH (fastupdate=off) WHERE ((_jsonb -> 'it''s'::text) IS NOT NULL)`,
        `CREATE INDEX orders_status___at___3ab9e47c_gin ON shop.orders_0a1b2c3d USING gin (((_jsonb -> 'status'::text)) jsonb_path_ops) WITH (fastupdate=off) WHERE ((_jsonb -> 'status'::text) IS NOT NULL)`,
      ].join('\n'),
    );
    assert.equal(await ginIndexes('public'), '');
    assert.equal(await ginIndexes('shop').then((s) => s.includes('_ferretdb_database_metadata')), false);
  });

  test("FerretDB's pushed-down equality filters use the GIN indexes", async () => {
    const t = 'shop.orders_0a1b2c3d';
    await sql(
      `INSERT INTO ${t} SELECT jsonb_build_object('_id', 'o' || i, 'status', CASE WHEN i % 500 = 0 THEN 'pending' ELSE 'done' END,
         'a', jsonb_build_object('b', 'k' || i), 'v', 0, '$s', '{}'::jsonb) FROM generate_series(1, 20000) i`,
    );
    await sql(`ANALYZE ${t}`);
    // As the stack's FerretDB sends them (ferretdb-v1.24.2.patch): the field name in the statement,
    // the value a parameter. Planned once for every execution, as PostgreSQL may plan a prepared
    // statement (a generic plan): the plan must not depend on the value to use the index.
    const plan = (where, ...args) =>
      psql(binDir, port, FERRETDB_DATABASE, [
        '-c',
        'SET plan_cache_mode = force_generic_plan',
        '-c',
        `PREPARE q AS SELECT _jsonb FROM ${t} WHERE ${where}`,
        '-c',
        `EXPLAIN (COSTS OFF) EXECUTE q(${args.join(', ')})`,
      ]);
    assert.match(
      await plan(`_jsonb->'_id' = $1`, `'"o17"'`),
      /Index Scan using orders_0a1b2c3d__id__67399184_idx/,
    );
    assert.match(
      await plan(`_jsonb->'status' @> $1`, `'"pending"'`),
      /Index Scan on orders_status___at___3ab9e47c_gin/,
    );
    assert.match(
      await plan(`_jsonb#>'{"a","b"}'::text[] @> $1`, `'"k5"'`),
      /Index Scan on orders_a_b___a7f71248_gin/,
    );
    // upstream's form, the field name a parameter too: no generic plan of it can use an index
    assert.match(await plan(`_jsonb->$1 @> $2`, `'status'`, `'"pending"'`), /Seq Scan/);
    // a marker field that few documents have: its partial index (only those) serves the filter
    await sql(`CREATE INDEX "orders_outboxpending___aff19277_idx" ON ${t} (((_jsonb->'outboxPending')))`);
    await sql(
      `UPDATE ${t} SET _jsonb = _jsonb || '{"outboxPending": true, "v": 1}' WHERE _jsonb->'_id' @> '"o42"'`,
    );
    assert.match(
      await plan(`_jsonb->'outboxPending' @> $1`, `'true'`),
      /Index Scan on orders_outboxpending___aff19277_gin/,
    );
    // a field without an index is still a scan
    assert.match(await plan(`_jsonb->'v' @> $1`, `'0'`), /Seq Scan/);
  });

  test('the version check refuses a write whose v is not the stored v + 1, with SQLSTATE 40001', async () => {
    const t = 'shop.orders_0a1b2c3d';
    await sql(`INSERT INTO ${t} VALUES ('{"_id": "vx", "v": 4, "n": 1, "$s": {}}')`);
    const write = (doc) => `UPDATE ${t} SET _jsonb = '${doc}' WHERE _jsonb->'_id' = '"vx"'`;
    await sql(write('{"_id": "vx", "v": 5, "n": 2, "$s": {}}'));
    for (const doc of [
      '{"_id": "vx", "v": 5, "n": 3, "$s": {}}', // raced: another write already made it 5
      '{"_id": "vx", "v": 7, "n": 3, "$s": {}}',
      '{"_id": "vx", "n": 3, "$s": {}}', // v dropped
      '{"_id": "vx", "v": "6", "n": 3, "$s": {}}', // not a number
    ]) {
      const message = await sqlError(write(doc));
      assert.match(message, /ERROR: {2}40001: write conflict: document version moved \(stored v 5, /);
    }
    await sql(write('{"_id": "vx", "v": 6.0, "n": 3, "$s": {}}')); // compared as numbers
    assert.equal(await sql(`SELECT _jsonb->>'n' FROM ${t} WHERE _jsonb->'_id' = '"vx"'`), '3');
    // documents without a numeric v are not checked
    await sql(`INSERT INTO ${t} VALUES ('{"_id": "plain", "n": 1, "$s": {}}')`);
    await sql(
      `UPDATE ${t} SET _jsonb = '{"_id": "plain", "n": 9, "$s": {}}' WHERE _jsonb->'_id' = '"plain"'`,
    );
    await sql(
      `UPDATE ${t} SET _jsonb = '{"_id": "plain", "n": 9, "v": 0, "$s": {}}' WHERE _jsonb->'_id' = '"plain"'`,
    );
  });

  test('stopping the cluster is a clean fast shutdown', async () => {
    const pid = server.pid;
    assert.equal(await stopProcess(pid, { signal: 'SIGINT', graceMs: 20_000 }), 'stopped');
    assert.equal(isAlive(pid), false);
    server = undefined;
    assert.equal(await postgresHealthy(port, binDir), false);
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
