// The infrastructure components: where each one lives, how to tell it is healthy, how to start it.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  amqpHealthy,
  consulHealthy,
  httpGet,
  jaegerHealthy,
  mongoHealthy,
  stripeHealthy,
  tcpOpen,
} from './probes.mjs';
import {
  binariesFor,
  dataDirFor,
  ferretdbBackendUrl,
  ferretdbDatabaseUrl,
  initCluster,
  PostgresMissingError,
  postgresBinDirs,
  postgresHealthy,
  postgresPort,
  prepareFerretdbDatabase,
  serverAccount,
  serverArgs,
} from './postgres.mjs';
import { commandLine, pollUntil, stopProcess } from './proc.mjs';

/** The local defaults (RUNTIME.md); every one can be overridden by the environment variable of the same name. */
export const DEFAULT_ADDRESSES = Object.freeze({
  CONSUL_URL: 'http://127.0.0.1:8500',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
  JAEGER_QUERY_URL: 'http://127.0.0.1:16686',
  STRIPE_API_URL: 'http://127.0.0.1:12111',
});

/** The address of every component, as the environment variables the services read. */
export function componentAddresses(env = process.env) {
  return Object.fromEntries(
    Object.entries(DEFAULT_ADDRESSES).map(([name, fallback]) => [name, env[name]?.trim() || fallback]),
  );
}

const normalize = (url) => url.trim().replace(/\/+$/, '');
const overridden = (env, name) =>
  Boolean(env[name]?.trim()) && normalize(env[name]) !== normalize(DEFAULT_ADDRESSES[name]);

/** `new URL` for addresses that may come without a scheme (`127.0.0.1:4317`). */
function parseUrl(value, scheme = 'http') {
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `${scheme}://${value}`);
}

/** Hides a password in a URL unless it is the well-known local `guest`. */
export function redact(url) {
  try {
    const u = new URL(url);
    if (u.password && u.password !== 'guest') u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Binaries: one on PATH wins; otherwise the versioned cache that provision.sh (beside this file) fills.

const PROVISION_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'provision.sh');

/** Pids of provision.sh runs (started by anyone) that are building `name` right now. */
function runningProvisions(name) {
  const pids = [];
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return pids; // no /proc (not Linux): nothing to wait for
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = commandLine(Number(entry));
    const at = argv.findIndex((arg) => arg.endsWith('provision.sh'));
    if (at === -1) continue;
    const targets = argv.slice(at + 1);
    if (targets.length === 0 || targets.includes(name)) pids.push(Number(entry));
  }
  return pids;
}

export async function resolveBinary(name, ctx) {
  const onPath = which(name);
  if (onPath) return onPath;
  // Never start a second build of the same component next to one already running: its
  // work folder would be wiped under it. Wait for it, then provision.sh just prints the path.
  const busy = runningProvisions(name);
  if (busy.length > 0) {
    ctx.log(`${name}: waiting for a build already in progress (pid ${busy.join(', ')})`);
    const finished = await pollUntil(() => runningProvisions(name).length === 0, {
      timeoutMs: ctx.provisionTimeoutMs,
      intervalMs: 2_000,
    });
    if (!finished)
      throw new Error(`${name}: the build in progress (pid ${busy.join(', ')}) did not finish in time`);
  }
  const logFile = path.join(ctx.logsDir, `provision-${name}.log`);
  const started = Date.now();
  const slowNotice = setTimeout(
    () =>
      ctx.log(
        `${name}: building from the Go module proxy (first run only, can take many minutes; log ${path.relative(ctx.root, logFile)})`,
      ),
    3_000,
  );
  try {
    const out = await run('bash', [PROVISION_SCRIPT, name], { logFile, timeoutMs: ctx.provisionTimeoutMs });
    const binary = out.trim().split('\n').pop();
    if (!binary || !fs.existsSync(binary))
      throw new Error(`provision.sh printed no binary path (see ${logFile})`);
    if (Date.now() - started > 3_000) ctx.log(`${name}: built ${binary}`);
    return binary;
  } catch (err) {
    throw new Error(`${name}: not on PATH and provisioning failed: ${err.message}`, { cause: err });
  } finally {
    clearTimeout(slowNotice);
  }
}

function run(command, args, { logFile, timeoutMs }) {
  return new Promise((resolve, reject) => {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      log.write(chunk);
    });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end();
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`${[command, ...args].join(' ')} exited with ${signal ?? code} (log ${logFile})`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Components. Each has: `addresses(env)`, `external(env)` (an env var points somewhere else:
// only check it), `probe(addr)` (false, or details of what answers), `ports(addr)` (must be
// free before starting), `prepare(addr, ctx)` (the command to start), `where(addr, info)`.

/**
 * What a component at one address needs of it: the address is `envVar` (or its default), and the
 * port to keep free is the address's own, or `defaultPort` when the address names none.
 */
function atOneUrl(envVar, defaultPort, scheme = 'http') {
  return {
    envVars: [envVar],
    addresses: (env) => ({ url: componentAddresses(env)[envVar] }),
    external: (env) => (overridden(env, envVar) ? envVar : undefined),
    ports: ({ url }) => {
      const u = parseUrl(url, scheme);
      return [{ host: u.hostname, port: Number(u.port || defaultPort) }];
    },
  };
}

/**
 * A component that one HTTP request tells healthy, at the address `envVar` gives (its default
 * port from DEFAULT_ADDRESSES), running as a process of its own name.
 */
function httpComponent(name, envVar, { healthTimeoutMs, healthy }) {
  const defaultPort = Number(new URL(DEFAULT_ADDRESSES[envVar]).port);
  return {
    name,
    ...atOneUrl(envVar, defaultPort),
    markers: [name],
    healthTimeoutMs,
    probe: async ({ url }) => ((await healthy(url)) ? {} : false),
  };
}

const consul = {
  ...httpComponent('consul', 'CONSUL_URL', { healthTimeoutMs: 60_000, healthy: consulHealthy }),
  probeLabel: 'GET /v1/status/leader returns a leader',
  async prepare({ url }, ctx) {
    const u = parseUrl(url);
    return {
      command: await resolveBinary('consul', ctx),
      // dev mode: a single in-memory server that elects itself; everything on loopback
      args: [
        'agent',
        '-dev',
        '-client',
        u.hostname,
        '-bind',
        '127.0.0.1',
        '-http-port',
        String(u.port || 8500),
        '-log-level',
        'info',
      ],
    };
  },
  where: ({ url }) => `${url}  (UI ${normalize(url)}/ui)`,
};

const rabbitmq = {
  name: 'rabbitmq',
  ...atOneUrl('AMQP_URL', 5672, 'amqp'),
  markers: ['rabbitmq-server', 'beam.smp'],
  healthTimeoutMs: 180_000,
  probeLabel: 'an AMQP connection with login',
  async probe({ url }) {
    const amqp = await amqpHealthy(url);
    if (!amqp) return false;
    const u = parseUrl(url, 'amqp');
    const management = `http://${u.hostname}:15672`;
    const { status } = await httpGet(management, { timeoutMs: 1_000 });
    return { version: amqp.version, management: status > 0 ? management : undefined };
  },
  async prepare({ url }, ctx) {
    // Our own node (own name, ports, data and logs under .stack/), never the machine's broker.
    // Debian's /usr/sbin/rabbitmq-server is a wrapper that su's to the rabbitmq user; the script
    // behind it runs as the current user, in the foreground, and stops cleanly on SIGTERM.
    const onPath = which('rabbitmq-server');
    const debianScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';
    const command = fs.existsSync(debianScript) ? debianScript : onPath;
    if (!command) {
      throw new Error(
        `nothing answers at ${redact(url)} and rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server), or set AMQP_URL to a running broker`,
      );
    }
    const u = parseUrl(url, 'amqp');
    const port = Number(u.port || 5672);
    const dir = path.join(ctx.dataDir, 'rabbitmq');
    fs.mkdirSync(path.join(dir, 'mnesia'), { recursive: true });
    const managementFree = !(await tcpOpen('127.0.0.1', 15672, 500));
    fs.writeFileSync(
      path.join(dir, 'enabled_plugins'),
      managementFree ? '[rabbitmq_management].\n' : '[].\n',
    );
    fs.writeFileSync(
      path.join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = ${u.hostname}:${port}`,
        ...(managementFree ? ['management.tcp.ip = 127.0.0.1', 'management.tcp.port = 15672'] : []),
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    return {
      command,
      args: [],
      env: {
        HOME: dir, // the Erlang cookie lives here
        RABBITMQ_NODENAME: 'oms-stack@localhost',
        RABBITMQ_NODE_IP_ADDRESS: u.hostname,
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(port + 20_001), // not the machine broker's 25672
        RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
        RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(ctx.logsDir, 'rabbitmq'),
        RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    };
  },
  where: ({ url }, info) =>
    `${redact(url)}  (RabbitMQ ${info?.version ?? '?'}; management ${info?.management ?? 'plugin not enabled'})`,
};

// ---------------------------------------------------------------------------------------------
// MongoDB: a real mongod when one is on PATH, else FerretDB v1 on the stack's own PostgreSQL.

/**
 * How the stack has its MongoDB-wire server, decided once per command: `ferretdb` (FerretDB on
 * the stack's PostgreSQL, which it then needs), or a reason why PostgreSQL is not needed.
 */
export function mongoPlan(ctx) {
  ctx.mongoPlanPromise ??= (async () => {
    const env = ctx.env;
    if (mongo.external(env)) return { ferretdb: false, reason: 'MONGO_URL points at another server' };
    if (which('mongod')) return { ferretdb: false, reason: 'mongo is the mongod on PATH' };
    const addr = mongo.addresses(env);
    if (!ctx.ownedPid?.(mongo) && (await mongo.probe(addr))) {
      return { ferretdb: false, reason: `reusing the server that answers at ${redact(addr.url)}` };
    }
    return { ferretdb: true };
  })();
  return ctx.mongoPlanPromise;
}

/** The stack's own PostgreSQL cluster, FerretDB's backend (see postgres.mjs and ferretdb.sql). */
const postgres = {
  name: 'postgres',
  envVars: [],
  portHint: 'OMS_STACK_POSTGRES_PORT to a free port',
  markers: ['postgres'],
  stopSignal: 'SIGINT', // fast shutdown: ends sessions cleanly instead of waiting for them
  healthTimeoutMs: 60_000,
  addresses: (env) => ({ url: ferretdbDatabaseUrl(postgresPort(env)), port: postgresPort(env) }),
  external: () => undefined,
  async needed(ctx) {
    const plan = await mongoPlan(ctx);
    return plan.ferretdb ? true : `not needed: ${plan.reason}`;
  },
  /** A cluster of ours that runs with other settings than serverArgs gives is restarted. */
  async reconcile({ port }, ctx, pid) {
    if (!pid) return pid;
    const running = commandLine(pid);
    const dataDir = running[running.indexOf('-D') + 1];
    if (running.length === 0 || !dataDir) return pid;
    const missing = serverArgs({ dataDir, port }).filter(
      (arg, i, all) => all[i - 1] === '-c' && !running.includes(arg),
    );
    if (missing.length === 0) return pid;
    ctx.log(`postgres: pid ${pid} runs without ${missing.join(' ')}; restarting it`);
    return undefined;
  },
  probeLabel: 'psql answers SHOW server_version',
  probe: ({ port }) => postgresHealthy(port),
  ports: ({ port }) => [{ host: '127.0.0.1', port }],
  async prepare({ port }, ctx) {
    const account = serverAccount();
    const dataDir = dataDirFor(ctx.dataDir, account);
    const { binDir } = binariesFor(dataDir);
    const logFile = path.join(ctx.logsDir, 'postgres.log');
    if (initCluster({ dataDir, binDir, account, logFile }))
      ctx.log(`postgres: initialised a cluster in ${path.relative(process.cwd(), dataDir) || dataDir}`);
    return {
      command: path.join(binDir, 'postgres'),
      args: serverArgs({ dataDir, port }),
      account,
      server: 'postgresql',
      dataDir,
    };
  },
  where: ({ url }, info, record) =>
    `${url.replace(/\/[^/]*$/, '')}  (${info?.server ?? 'not running'}; FerretDB's backend${record?.dataDir ? `; data ${path.relative(process.cwd(), record.dataDir) || record.dataDir}` : ''})`,
};

const mongo = {
  name: 'mongo',
  ...atOneUrl('MONGO_URL', 27017, 'mongodb'),
  markers: ['mongod', 'ferretdb'],
  dependsOn: ['postgres'],
  healthTimeoutMs: 60_000,
  probeLabel: 'a MongoDB driver ping',
  probe: ({ url }) => mongoHealthy(url),
  /**
   * Runs on every `up` before anything is probed or started: for FerretDB, gets its PostgreSQL
   * database ready (ferretdb.sql), and restarts a FerretDB of ours that runs with other settings
   * (another backend, another pool size) than these.
   */
  async reconcile(addr, ctx, pid) {
    const plan = await mongoPlan(ctx);
    if (!plan.ferretdb) return pid;
    const pg = ctx.results?.postgres;
    if (!pg || pg.status !== 'up') throw new Error('needs postgres, which is not up');
    const port = pg.addr.port;
    const binDir = postgresBinDirs()[0];
    if (!binDir) throw new PostgresMissingError();
    await prepareFerretdbDatabase({ port, binDir });
    if (pid) {
      const running = commandLine(pid);
      const missing = ferretdbArgs(addr, ctx, port).filter(
        (arg) => !arg.startsWith('--debug-addr=') && !running.includes(arg),
      );
      if (running.length > 0 && missing.length > 0) {
        ctx.log(`mongo: FerretDB pid ${pid} runs without ${missing.join(' ')}; restarting it`);
        return undefined; // the caller stops it
      }
      // An older build of ours (before a patch changed it) is replaced by the current one.
      const binary = await resolveBinary('ferretdb', ctx);
      if (running.length > 0 && running[0] !== binary) {
        ctx.log(`mongo: FerretDB pid ${pid} runs ${running[0]}, not ${binary}; restarting it`);
        return undefined;
      }
    }
    return pid;
  },
  async prepare(addr, ctx) {
    const u = parseUrl(addr.url, 'mongodb');
    const port = String(u.port || 27017);
    const mongod = which('mongod');
    if (mongod) {
      const dir = path.join(ctx.dataDir, 'mongod');
      fs.mkdirSync(dir, { recursive: true });
      return {
        command: mongod,
        args: ['--dbpath', dir, '--bind_ip', u.hostname, '--port', port],
        server: 'mongod',
      };
    }
    fs.mkdirSync(path.join(ctx.dataDir, 'ferretdb-state'), { recursive: true });
    const debugFree = !(await tcpOpen('127.0.0.1', 8088, 500));
    return {
      command: await resolveBinary('ferretdb', ctx),
      args: ferretdbArgs(addr, ctx, ctx.results.postgres.addr.port, { debugFree }),
      // At the default GOGC=100 an eighth of its CPU was garbage-collector marking (pprof, create
      // load); it holds a few tens of MB, so collecting less often costs little memory.
      // GOMAXPROCS=1: its work is waiting on sockets, and with a second P the Go scheduler woke
      // spinning threads for every goroutine handoff (futex and syscalls were the top of its
      // profile); one P cut its CPU per order by about a fifth (bench dbcommands, 15.0–15.6 ms →
      // 11.6–13.0 ms). It stays far from a core's worth at the system's peak rate.
      env: { GOGC: '400', GOMAXPROCS: '1' },
      server: 'ferretdb',
    };
  },
  where: ({ url }, info, record) => `${redact(url)}  (${info?.server ?? record?.server ?? 'not running'})`,
};

/** FerretDB v1 on the stack's PostgreSQL, its pool sized on purpose (FERRETDB_POOL_MAX_CONNS). */
function ferretdbArgs({ url }, ctx, pgPort, { debugFree = false } = {}) {
  const u = parseUrl(url, 'mongodb');
  return [
    '--handler=postgresql',
    `--postgresql-url=${ferretdbBackendUrl(pgPort)}`,
    `--listen-addr=${u.hostname}:${u.port || 27017}`,
    `--state-dir=${path.join(ctx.dataDir, 'ferretdb-state')}`,
    '--telemetry=disable',
    // its debug/metrics HTTP listener: the default port when free, else switched off
    `--debug-addr=${debugFree ? '127.0.0.1:8088' : '-'}`,
    // WARN logs every client connection's end, and dumps in full every error response: each
    // write conflict the services retry, each endSessions the driver sends on close
    '--log-level=ERROR',
  ];
}

const jaeger = {
  name: 'jaeger',
  envVars: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'JAEGER_QUERY_URL'],
  markers: ['jaeger'],
  healthTimeoutMs: 60_000,
  addresses(env) {
    const a = componentAddresses(env);
    return { otlp: a.OTEL_EXPORTER_OTLP_ENDPOINT, query: a.JAEGER_QUERY_URL };
  },
  external: (env) =>
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'JAEGER_QUERY_URL'].filter((name) => overridden(env, name)).join(', ') ||
    undefined,
  probeLabel: 'GET /api/services answers 200 and the OTLP gRPC port accepts TCP',
  probe: async ({ otlp, query }) => ((await jaegerHealthy(query, parseUrl(otlp).toString())) ? {} : false),
  ports: ({ otlp, query }) => {
    const o = parseUrl(otlp);
    const q = parseUrl(query);
    return [
      { host: o.hostname, port: Number(o.port || 4317) },
      { host: o.hostname, port: 4318 },
      { host: q.hostname, port: Number(q.port || 16686) },
    ];
  },
  async prepare({ query }, ctx) {
    // No --config: cmd/jaeger then runs its embedded all-in-one configuration (memory storage,
    // OTLP receivers on 4317/4318, query UI/API on 16686). That configuration binds
    // ${JAEGER_LISTEN_HOST:-localhost} everywhere except the query extension, which defaults to
    // every interface (":16686", ":16685"): pin those to loopback too.
    const q = parseUrl(query);
    return {
      command: await resolveBinary('jaeger', ctx),
      args: [
        `--set=extensions.jaeger_query.http.endpoint=${q.hostname}:${q.port || 16686}`,
        `--set=extensions.jaeger_query.grpc.endpoint=${q.hostname}:16685`,
      ],
      env: { JAEGER_LISTEN_HOST: '127.0.0.1' },
    };
  },
  where: ({ otlp, query }) =>
    `UI ${query}  OTLP gRPC ${otlp}  OTLP HTTP http://${parseUrl(otlp).hostname}:4318`,
};

const stripeMock = {
  ...httpComponent('stripe-mock', 'STRIPE_API_URL', { healthTimeoutMs: 30_000, healthy: stripeHealthy }),
  probeLabel: 'GET /v1/customers with a test key answers 200',
  where: ({ url }) => url,
  async prepare({ url }, ctx) {
    const u = parseUrl(url);
    const port = Number(u.port || 12111);
    const httpsFree = !(await tcpOpen(u.hostname, port + 1, 500));
    return {
      command: await resolveBinary('stripe-mock', ctx),
      args: [
        '-http-addr',
        `${u.hostname}:${port}`,
        ...(httpsFree ? ['-https-addr', `${u.hostname}:${port + 1}`] : []),
      ],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Nomad: a dev agent (server and client in one, state in memory) that runs jobs on this machine and
// sees the stack's Consul. Optional: `up()` leaves it out; `up({ only: ['nomad'] })` starts it.

const NOMAD_DEFAULT_ADDR = 'http://127.0.0.1:4646';
/** Cloud fingerprinters ask metadata endpoints that do not exist here (and fail on AWS_CA_BUNDLE). */
const NOMAD_FINGERPRINT_DENYLIST = 'env_aws,env_gce,env_azure,env_digitalocean';

/** Pids of the processes whose parent is `parent` (from /proc). */
function childrenOf(parent) {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false; // gone meanwhile
      }
    });
}

/**
 * What a dev agent leaves behind when it stops: a task's executor runs in a process group of its
 * own and outlives the agent with its task (which would stay registered in Consul), and each
 * allocation's secrets/ and private/ folders stay mounted (tmpfs, as root). Stops the tasks
 * (SIGTERM: they deregister and drain), then their executors, and unmounts what is under `dataDir`.
 */
async function cleanUpAfterNomad(dataDir) {
  if (!fs.existsSync('/proc')) return;
  const executors = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const argv = commandLine(pid);
      return argv[1] === 'executor' && argv.some((arg) => arg.includes(dataDir));
    });
  await Promise.all(
    executors.map(async (executor) => {
      await Promise.all(childrenOf(executor).map((task) => stopProcess(task, { graceMs: 30_000 })));
      await stopProcess(executor, { graceMs: 5_000 });
    }),
  );
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((mountPoint) => mountPoint?.startsWith(`${dataDir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) spawnSync('umount', [mountPoint]);
}

/**
 * Dev agents whose configuration file is gone: left running by a checkout that was deleted since.
 * Such an agent still answers on its ports, so it would be reused, yet it cannot run a task (its
 * data folder went with the checkout). Returns their pids and the data folders they used.
 */
export function orphanedNomadAgents() {
  if (!fs.existsSync('/proc')) return [];
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => ({ pid: Number(entry), argv: commandLine(Number(entry)) }))
    .filter(({ argv }) => path.basename(argv[0] ?? '').startsWith('nomad') && argv.includes('agent'))
    .map(({ pid, argv }) => ({
      pid,
      config: argv.includes('-config') ? argv[argv.indexOf('-config') + 1] : undefined,
    }))
    .filter(({ config }) => config !== undefined && !fs.existsSync(config))
    .map(({ pid, config }) => ({ pid, dataDir: path.join(path.dirname(config), 'data') }));
}

const nomad = {
  name: 'nomad',
  optional: true,
  envVars: ['NOMAD_ADDR'],
  markers: ['nomad'],
  dependsOn: ['consul'],
  healthTimeoutMs: 60_000,
  addresses: (env) => ({
    url: env.NOMAD_ADDR?.trim() || NOMAD_DEFAULT_ADDR,
    consul: componentAddresses(env).CONSUL_URL,
  }),
  external: (env) =>
    env.NOMAD_ADDR?.trim() && normalize(env.NOMAD_ADDR) !== NOMAD_DEFAULT_ADDR ? 'NOMAD_ADDR' : undefined,
  probeLabel: 'GET /v1/nodes lists a ready node whose raw_exec driver is healthy',
  async probe({ url }) {
    const { status, body } = await httpGet(new URL('/v1/nodes', url));
    if (status !== 200) return false;
    try {
      const ready = JSON.parse(body).find(
        (node) => node.Status === 'ready' && node.Drivers?.raw_exec?.Healthy === true,
      );
      return ready ? { version: ready.Version } : false;
    } catch {
      return false;
    }
  },
  ports: ({ url }) => {
    const u = parseUrl(url);
    const http = Number(u.port || 4646);
    return [http, http + 1, http + 2].map((port) => ({ host: u.hostname, port }));
  },
  /** An orphaned agent (see orphanedNomadAgents) is stopped, with what it ran, so a working one starts. */
  async reconcile(_addr, ctx) {
    for (const orphan of orphanedNomadAgents()) {
      ctx.log(`nomad: stopping agent pid ${orphan.pid}, left by a checkout that is gone`);
      await stopProcess(orphan.pid, { graceMs: 10_000 });
      await cleanUpAfterNomad(orphan.dataDir);
    }
    return true;
  },
  async prepare({ url, consul }, ctx) {
    const u = parseUrl(url);
    const http = Number(u.port || 4646);
    const dir = path.join(ctx.dataDir, 'nomad');
    // a dev agent's state dies with it: allocations of an earlier one are only litter
    await cleanUpAfterNomad(path.join(dir, 'data'));
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const config = path.join(dir, 'agent.hcl');
    fs.writeFileSync(
      config,
      [
        `data_dir = "${path.join(dir, 'data')}"`,
        `ports {\n  http = ${http}\n  rpc  = ${http + 1}\n  serf = ${http + 2}\n}`,
        `client {\n  options = {\n    "fingerprint.denylist" = "${NOMAD_FINGERPRINT_DENYLIST}"\n  }\n}`,
        'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}',
        // The services register themselves in Consul; Nomad does not advertise itself there either.
        `consul {\n  address        = "${parseUrl(consul).host}"\n  auto_advertise = false\n}`,
        '',
      ].join('\n'),
    );
    return {
      command: await resolveBinary('nomad', ctx),
      args: ['agent', '-dev', '-bind', u.hostname, '-log-level', 'INFO', '-config', config],
      env: { AWS_CA_BUNDLE: undefined },
    };
  },
  afterStop: (ctx) => cleanUpAfterNomad(path.join(ctx.dataDir, 'nomad', 'data')),
  where: ({ url }, info) => `${url}  (Nomad ${info?.version ?? '?'} dev agent)`,
};

/** In dependency order: a component comes after those it `dependsOn`. */
export const COMPONENTS = [consul, rabbitmq, postgres, mongo, jaeger, stripeMock, nomad];
