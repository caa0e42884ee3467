// Command line and environment of `npm run bench`.

export const SCENARIOS = [
  'dbcommands',
  'throughput',
  'overload',
  'sustained',
  'tracing',
  'lifecycle',
  'growth',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** What `npm run bench` runs without --only: everything but growth, unless asked for. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = SCENARIOS.filter((s) => s !== 'growth');

export interface BenchOptions {
  scenarios: ScenarioName[];
  /** True when --only picked the scenarios: the report goes to its own file, not latest/README. */
  partial: boolean;
  build: boolean;
  help: boolean;
  connections: number;
  durationS: number;
  rounds: number;
  /** The throughput scenarios warm up at least this long, then until their CPU per 2xx settles… */
  warmUpMinS: number;
  /** …but no longer than this. */
  warmUpMaxS: number;
  lifecycleOrders: number;
  /** Orders per round of the sequential database-commands scenario. */
  dbOrders: number;
  /** Rounds of the database-commands scenario (cheap, and noisier than the others: more of them). */
  dbRounds: number;
  /** Windows per request kind and mode in the tracing scenario (it compares two noisy rates: more of them). */
  tracingRounds: number;
  overloadRequests: number;
  overloadStock: number;
  /** Clients of the sustained-overload phase (the normal phase has `connections`). */
  overloadConnections: number;
  sustainedS: number;
  /** How long after the overload the system must serve normally again. */
  recoveryS: number;
  growthOrders: number;
  growthBaseline: number;
  idleSeconds: number;
  getSamples: number;
}

export const USAGE = `usage: npm run bench [-- --only=<scenario>[,<scenario>…]] [--growth] [--no-build]

scenarios: ${SCENARIOS.join(', ')}
  dbcommands  database commands and FerretDB CPU per order, orders one at a time, idle subtracted
  throughput  ceilings (bare Fastify, bare grpc-js echo, driver findOne, get-order in its libraries alone),
              create-order and get-order at BENCH_CONNECTIONS, CPU ms per request per process, each after a
              warm-up until its CPU per request settles (BENCH_WARMUP_MIN_S..BENCH_WARMUP_MAX_S)
  overload    BENCH_OVERLOAD_REQUESTS concurrent creates against stock BENCH_OVERLOAD_STOCK
  sustained   goodput of creates from BENCH_CONNECTIONS then BENCH_OVERLOAD_CONNECTIONS clients that
              honour retry-after, BENCH_SUSTAINED_S each; served normally BENCH_RECOVERY_S later
  tracing     create-order and get-order at BENCH_CONNECTIONS with tracing on, then off (OTEL_SDK_DISABLED)
  lifecycle   BENCH_LIFECYCLE_ORDERS orders from create to ready
  growth      idle CPU, get-order and create-order at BENCH_GROWTH_BASELINE and BENCH_GROWTH_ORDERS
              stored orders (several minutes; off unless --growth, BENCH_GROWTH=1 or --only=growth)

--growth     add the growth scenario to the default run
--no-build   do not build the services first (nx caches the build anyway)

A full run writes bench-results/latest.{json,md} and the README's benchmark section; a run with
--only writes bench-results/<scenarios>.{json,md} and leaves those alone.

environment (defaults): BENCH_CONNECTIONS (64), BENCH_DURATION_S (5), BENCH_ROUNDS (3),
BENCH_WARMUP_MIN_S (30), BENCH_WARMUP_MAX_S (90),
BENCH_LIFECYCLE_ORDERS (200), BENCH_DB_ORDERS (60), BENCH_DB_ROUNDS (5), BENCH_TRACING_ROUNDS (6),
BENCH_OVERLOAD_REQUESTS (200),
BENCH_OVERLOAD_STOCK (100), BENCH_OVERLOAD_CONNECTIONS (300), BENCH_SUSTAINED_S (10),
BENCH_RECOVERY_S (3), BENCH_GROWTH_ORDERS (100000), BENCH_GROWTH_BASELINE (1000),
BENCH_IDLE_S (30), BENCH_GET_SAMPLES (200), BENCH_FERRETDB_DEBUG (FerretDB's --debug-addr)`;

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return value;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  let only: ScenarioName[] | undefined;
  let growth = env.BENCH_GROWTH === '1' || env.BENCH_GROWTH === 'true';
  let build = true;
  let help = false;
  for (const arg of argv) {
    if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter(Boolean);
      const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
      if (unknown.length > 0 || names.length === 0)
        throw new Error(
          `unknown scenario ${unknown.join(', ') || '(none)'}; pick from ${SCENARIOS.join(', ')}`,
        );
      only = names as ScenarioName[];
    } else if (arg === '--growth') growth = true;
    else if (arg === '--no-build') build = false;
    else if (arg === '--help' || arg === '-h') help = true;
    else throw new Error(`unknown argument ${arg}\n\n${USAGE}`);
  }
  const scenarios = only
    ? SCENARIOS.filter((s) => only.includes(s))
    : SCENARIOS.filter((s) => DEFAULT_SCENARIOS.includes(s) || (s === 'growth' && growth));
  return {
    scenarios,
    partial: only !== undefined,
    build,
    help,
    connections: number(env, 'BENCH_CONNECTIONS', 64),
    durationS: number(env, 'BENCH_DURATION_S', 5),
    rounds: number(env, 'BENCH_ROUNDS', 3),
    warmUpMinS: number(env, 'BENCH_WARMUP_MIN_S', 30),
    warmUpMaxS: number(env, 'BENCH_WARMUP_MAX_S', 90),
    lifecycleOrders: number(env, 'BENCH_LIFECYCLE_ORDERS', 200),
    dbOrders: number(env, 'BENCH_DB_ORDERS', 60),
    dbRounds: number(env, 'BENCH_DB_ROUNDS', 5),
    tracingRounds: number(env, 'BENCH_TRACING_ROUNDS', 6),
    overloadRequests: number(env, 'BENCH_OVERLOAD_REQUESTS', 200),
    overloadStock: number(env, 'BENCH_OVERLOAD_STOCK', 100),
    overloadConnections: number(env, 'BENCH_OVERLOAD_CONNECTIONS', 300),
    sustainedS: number(env, 'BENCH_SUSTAINED_S', 10),
    recoveryS: number(env, 'BENCH_RECOVERY_S', 3),
    growthOrders: number(env, 'BENCH_GROWTH_ORDERS', 100_000),
    growthBaseline: number(env, 'BENCH_GROWTH_BASELINE', 1_000),
    idleSeconds: number(env, 'BENCH_IDLE_S', 30),
    getSamples: number(env, 'BENCH_GET_SAMPLES', 200),
  };
}
