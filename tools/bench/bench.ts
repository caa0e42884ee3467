// `npm run bench`: measures the running system the way ../shared/measure/ does, and reports what
// issue 7 asks for. One module per scenario under scenarios/; `--help` lists them and the options.
//   dbcommands  database commands and FerretDB CPU per order (orders one at a time, idle subtracted)
//   throughput  ceilings, create-order, get-order; CPU ms per request per process
//   overload    200 concurrent creates against stock 100
//   sustained   goodput at 64 and at 300 clients that honour retry-after; recovery after
//   tracing     create-order and get-order with tracing on against off
//   lifecycle   orders from create to ready
//   growth      idle CPU and latency at 1k and 100k stored orders (only with --growth)
// Writes bench-results/latest.{json,md} and the README's benchmark section (see report.ts).
import { buildServices, ensureStack } from '@oms/testing';
import { BenchContext } from './context';
import { describeMachine } from './machine';
import { parseOptions, USAGE, type BenchOptions, type ScenarioName } from './options';
import { writeReport, type Outcome, type Report } from './report';
import { dbCommands } from './scenarios/db-commands';
import { growth } from './scenarios/growth';
import { lifecycle } from './scenarios/lifecycle';
import { overload } from './scenarios/overload';
import { sustained } from './scenarios/sustained';
import { throughput } from './scenarios/throughput';
import { tracing } from './scenarios/tracing';

const RUNNERS: Record<ScenarioName, (ctx: BenchContext) => Promise<unknown>> = {
  dbcommands: dbCommands,
  throughput,
  overload,
  sustained,
  tracing,
  lifecycle,
  growth,
};

const SERVICES = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'];

function build(): void {
  console.log('building the services (nx caches unchanged ones)…');
  try {
    buildServices(SERVICES);
  } catch (error) {
    throw new Error(`${(error as Error).message}; --no-build benches the last build`, { cause: error });
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.build) build();
  await ensureStack();
  const ctx = new BenchContext(options);
  const infra = await ctx.infrastructure();
  const { help: _help, build: _build, ...settings } = options;
  const report: Report = {
    at: new Date().toISOString(),
    machine: describeMachine(),
    stack: {
      database: infra.databaseServer,
      processes: infra.groups.map((g) => `${g.label} (pid ${g.pid})`),
      missing: infra.missing,
    },
    settings,
    results: {},
  };
  console.log(`stack: ${report.stack.processes.join(', ')}`);
  if (infra.missing.length > 0) console.warn(`not found, so not measured: ${infra.missing.join(', ')}`);

  // Ctrl-C: stop the services this run started before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the bench's services`);
      void ctx.stop().finally(() => process.exit(130));
    });

  let failed = 0;
  try {
    for (const name of options.scenarios) {
      console.log(`\n== ${name}`);
      const started = Date.now();
      let outcome: Outcome<unknown>;
      try {
        outcome = { ok: true, result: await RUNNERS[name](ctx) };
      } catch (error) {
        failed++;
        const message = error instanceof Error ? error.message : String(error);
        console.error(`${name} failed: ${error instanceof Error ? error.stack : message}`);
        outcome = { ok: false, error: message.split('\n')[0]! };
      }
      (report.results as Record<string, Outcome<unknown>>)[name] = outcome;
      console.log(`   (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await ctx.stop();
  }

  const markdown = await writeReport(report);
  const file = options.partial ? options.scenarios.join('+') : 'latest';
  console.log(
    `\n${markdown}\nwritten to bench-results/${file}.{json,md}${options.partial ? '' : ' and README.md'}`,
  );
  if (!options.scenarios.includes('growth'))
    console.log(
      'data growth (100k orders) is not part of this run: npm run bench -- --only=growth (or --growth for everything)',
    );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
