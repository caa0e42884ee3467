// The stack's own PostgreSQL cluster, FerretDB's backend: found among the machine's binaries,
// initialised once into the stack's data folder, run on a loopback port of its own, and given what
// FerretDB lacks (ferretdb.sql). Nothing here touches the machine's own PostgreSQL server.
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, URLSearchParams } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where the cluster listens (loopback only); OMS_STACK_POSTGRES_PORT moves it. */
export const DEFAULT_POSTGRES_PORT = 54320;
/** The superuser initdb creates (trust authentication on loopback) and the database FerretDB uses. */
export const POSTGRES_USER = 'postgres';
export const FERRETDB_DATABASE = 'ferretdb';

/**
 * FerretDB's PostgreSQL pool (`pool_max_conns`). An update or findAndModify holds two of its
 * connections at once (the query's reader, then the writer), so once every connection is held by
 * a reader FerretDB deadlocks for good. That cannot happen while the pool is larger than the
 * number of commands that can be in flight, which is at most the sum of all clients' driver
 * pools: each service process has 10 (DEFAULT_POOL_SIZE in libs/persistence), so a whole system
 * is 60, and the largest single client is the persistence contract suite's 300-connection one.
 * 400 covers that client plus a running system (`npm start`) plus the bench's or tests' extra
 * service processes, with room to spare. FerretDB opens connections only as it needs them.
 */
export const FERRETDB_POOL_MAX_CONNS = 400;
/** PostgreSQL's limit: FerretDB's whole pool, plus psql sessions and headroom. */
export const POSTGRES_MAX_CONNECTIONS = 450;

const SQL_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ferretdb.sql');

export function postgresPort(env = process.env) {
  const port = Number(env.OMS_STACK_POSTGRES_PORT || DEFAULT_POSTGRES_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`OMS_STACK_POSTGRES_PORT=${env.OMS_STACK_POSTGRES_PORT} is not a TCP port`);
  return port;
}

/** The libpq URL of FerretDB's database over loopback TCP, without pool options (psql, display). */
export function ferretdbDatabaseUrl(port) {
  return `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${FERRETDB_DATABASE}`;
}

/**
 * Where the cluster also listens on a Unix socket (`.s.PGSQL.<port>` in it): the system's temporary
 * folder, short enough for the 107-byte socket path limit wherever the project lives.
 */
export const POSTGRES_SOCKET_DIR = os.tmpdir();

/**
 * The URL FerretDB reaches its database by: the Unix socket. Over TCP its pool of up to
 * FERRETDB_POOL_MAX_CONNS connections held as many loopback ports from the ephemeral range, where the
 * services' fixed ports are (a service failed to start on 50052, taken by FerretDB's connection to
 * PostgreSQL); a socket also spares each command the loopback TCP stack.
 */
export function ferretdbBackendUrl(port) {
  const query = new URLSearchParams({
    host: POSTGRES_SOCKET_DIR,
    port: String(port),
    pool_max_conns: String(FERRETDB_POOL_MAX_CONNS),
  });
  return `postgres://${POSTGRES_USER}@/${FERRETDB_DATABASE}?${query}`;
}

const isExecutable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

function whichDir(name, pathEnv = process.env.PATH) {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return dir;
  }
  return undefined;
}

const hasServer = (dir) => ['postgres', 'initdb', 'psql'].every((b) => isExecutable(path.join(dir, b)));

/**
 * Folders holding PostgreSQL's server binaries (postgres, initdb, psql), newest major version
 * first: Debian's /usr/lib/postgresql/<major>/bin, then wherever `initdb` is on PATH.
 */
export function postgresBinDirs({ libDir = '/usr/lib/postgresql', pathEnv = process.env.PATH } = {}) {
  const dirs = [];
  try {
    const majors = fs
      .readdirSync(libDir)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) dirs.push(path.join(libDir, major, 'bin'));
  } catch {
    /* not Debian's layout */
  }
  const onPath = whichDir('initdb', pathEnv);
  if (onPath) dirs.push(fs.realpathSync(onPath));
  return [...new Set(dirs)].filter(hasServer);
}

export class PostgresMissingError extends Error {
  constructor() {
    super(
      "FerretDB needs PostgreSQL's server binaries (initdb, postgres, psql), and none were found under /usr/lib/postgresql/*/bin or on PATH. Install them (Debian: apt-get install postgresql; the stack runs its own cluster and does not use the machine's server), or put a mongod on PATH, or set MONGO_URL to a running MongoDB",
    );
    this.name = 'PostgresMissingError';
  }
}

/** The major version a data folder was initialised with, or undefined when it holds no cluster. */
export function clusterVersion(dataDir) {
  try {
    return fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The binaries to run a data folder with: those of its own major version when it has one. */
export function binariesFor(dataDir, where = {}) {
  const dirs = postgresBinDirs(where);
  if (dirs.length === 0) throw new PostgresMissingError();
  const version = clusterVersion(dataDir);
  if (!version) return { binDir: dirs[0] };
  const match = dirs.find((dir) => binaryMajor(dir) === version);
  if (!match)
    throw new Error(
      `${dataDir} holds a PostgreSQL ${version} cluster, and only other versions' binaries are installed (${dirs.join(', ')}); remove that folder to start afresh (it holds only the local stack's data) or install PostgreSQL ${version}`,
    );
  return { binDir: match };
}

function binaryMajor(binDir) {
  const out = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /(\d+)(?:\.\d+)?/.exec(out.stdout ?? '');
  return m?.[1];
}

/**
 * PostgreSQL refuses to run as root: when we are root, the cluster belongs to the `postgres` system
 * user that Debian's package creates (else `nobody`). Undefined when we are not root.
 */
export function serverAccount() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    /* no passwd file */
  }
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error('running as root, and there is no postgres or nobody user to run PostgreSQL as');
}

/** True when `account` can write `dir` (and reach it through every parent). */
function accessibleTo(account, dir) {
  if (!account) return true;
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `require('fs').accessSync(${JSON.stringify(dir)}, require('fs').constants.W_OK | require('fs').constants.X_OK)`,
    ],
    { uid: account.uid, gid: account.gid, stdio: 'ignore', cwd: '/' },
  );
  return check.status === 0;
}

/**
 * The cluster's data folder: `<stack data>/postgres`, unless we are root and the account that runs
 * PostgreSQL cannot reach it (a clone under /root): then a folder of its own under /var/tmp, named
 * after the stack folder, so each clone still has its own cluster.
 */
export function dataDirFor(stackDataDir, account) {
  const preferred = path.join(stackDataDir, 'postgres');
  if (!account) return preferred;
  fs.mkdirSync(preferred, { recursive: true });
  fs.chownSync(preferred, account.uid, account.gid);
  if (accessibleTo(account, preferred)) return preferred;
  const hash = crypto.createHash('sha1').update(path.resolve(stackDataDir)).digest('hex').slice(0, 12);
  const base = path.join(os.platform() === 'linux' ? '/var/tmp' : os.tmpdir(), `oms-stack-${hash}`);
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const fallback = path.join(base, 'postgres');
  fs.mkdirSync(fallback, { recursive: true });
  fs.chownSync(fallback, account.uid, account.gid);
  fs.chmodSync(base, 0o755);
  return fallback;
}

/** Runs initdb once (a folder without PG_VERSION is an interrupted initdb: started afresh). */
export function initCluster({ dataDir, binDir, account, logFile }) {
  if (clusterVersion(dataDir)) return false;
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) fs.chownSync(dataDir, account.uid, account.gid);
  const result = spawnSync(
    path.join(binDir, 'initdb'),
    [
      '--pgdata',
      dataDir,
      '--username',
      POSTGRES_USER,
      '--auth',
      'trust', // loopback only (listen_addresses), a development database
      '--encoding',
      'UTF8',
      '--no-locale',
      '--no-instructions',
    ],
    {
      encoding: 'utf8',
      cwd: path.dirname(dataDir),
      timeout: 120_000,
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    },
  );
  fs.appendFileSync(logFile, `--- initdb ${dataDir}\n${result.stdout ?? ''}${result.stderr ?? ''}\n`);
  if (result.status !== 0) {
    throw new Error(
      `initdb failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout || '').trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  return true;
}

/** The postmaster's command line: every setting that matters is on it, visible in `ps`. */
export function serverArgs({ dataDir, port }) {
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: POSTGRES_SOCKET_DIR, // FerretDB's way in (ferretdbBackendUrl)
    max_connections: String(POSTGRES_MAX_CONNECTIONS),
    // Like a standalone mongod, which acknowledges a write before its journal is flushed: a crash
    // can lose the last fraction of a second, never corrupt. It spares a disk flush per command.
    synchronous_commit: 'off',
    // An order or a payment document is about 2 KB of JSON, past the size at which a row's value
    // is compressed: every write compressed it and every read decompressed it, with pglz. lz4 does
    // both faster (4,000 orders one statement each: reads by _id 210 → 145 ms, inserts 242 → 195).
    default_toast_compression: 'lz4',
    log_min_messages: 'warning',
    log_line_prefix: '%m [%p] ',
  };
  return ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

function psqlArgs(port, database, extra) {
  return [
    '-X',
    '-q',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    POSTGRES_USER,
    '-d',
    database,
    ...extra,
  ];
}

const psqlEnv = () => ({ ...process.env, PGCONNECT_TIMEOUT: '3', PGAPPNAME: 'oms-stack' });

/** psql on loopback; resolves to its output, rejects with its error message. */
export async function psql(binDir, port, database, extra, { timeoutMs = 60_000 } = {}) {
  try {
    const { stdout } = await execFileAsync(path.join(binDir, 'psql'), psqlArgs(port, database, extra), {
      env: psqlEnv(),
      timeout: timeoutMs,
      encoding: 'utf8',
    });
    return stdout.trim();
  } catch (err) {
    throw new Error(`psql (${database}): ${(err.stderr || err.message || '').trim()}`, { cause: err });
  }
}

/** The server answers a query: its version and max_connections, or false. */
export async function postgresHealthy(port, binDir) {
  const dir = binDir ?? postgresBinDirs()[0] ?? whichDir('psql');
  if (!dir) return false;
  try {
    const out = await psql(
      dir,
      port,
      'postgres',
      ['-F', ' ', '-c', 'SHOW server_version', '-c', 'SHOW max_connections'],
      {
        timeoutMs: 5_000,
      },
    );
    const [version, maxConnections] = out.split('\n');
    return { server: `PostgreSQL ${version.split(' ')[0]}`, maxConnections: Number(maxConnections) };
  } catch {
    return false;
  }
}

/**
 * Makes FerretDB's database ready before FerretDB starts, every `up` (idempotent): creates it, and
 * installs ferretdb.sql (the version-check trigger and the GIN index translation, on the tables
 * and indexes to come and on those already there). Also refuses a server too small for the pool.
 */
export async function prepareFerretdbDatabase({ port, binDir }) {
  const info = await postgresHealthy(port, binDir);
  if (!info) throw new Error(`PostgreSQL on 127.0.0.1:${port} does not answer`);
  if (info.maxConnections < FERRETDB_POOL_MAX_CONNS + 10) {
    throw new Error(
      `PostgreSQL on 127.0.0.1:${port} allows max_connections=${info.maxConnections}; FerretDB's pool needs ${FERRETDB_POOL_MAX_CONNS} and some headroom (the stack's own cluster runs with ${POSTGRES_MAX_CONNECTIONS}); stop that server, or set OMS_STACK_POSTGRES_PORT to a free port`,
    );
  }
  const exists = await psql(binDir, port, 'postgres', [
    '-c',
    `SELECT 1 FROM pg_database WHERE datname = '${FERRETDB_DATABASE}'`,
  ]);
  if (exists !== '1') {
    await psql(binDir, port, 'postgres', ['-c', `CREATE DATABASE ${FERRETDB_DATABASE}`]).catch(
      async (err) => {
        // another `up` (of another clone sharing this server) created it meanwhile
        const again = await psql(binDir, port, 'postgres', [
          '-c',
          `SELECT 1 FROM pg_database WHERE datname = '${FERRETDB_DATABASE}'`,
        ]);
        if (again !== '1') throw err;
      },
    );
  }
  await psql(binDir, port, FERRETDB_DATABASE, ['--single-transaction', '-f', SQL_FILE], {
    timeoutMs: 10 * 60_000,
  });
  return info;
}
