// The report: JSON and Markdown under bench-results/, and the README's benchmark section.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { totalOf } from './db-counters';
import { SETTLED_SPAN, SETTLED_WITHIN, type WarmUpSummary } from './load';
import type { DbCommandsResult } from './scenarios/db-commands';
import { DATABASE_SETTLE, type GrowthResult } from './scenarios/growth';
import type { LifecycleResult } from './scenarios/lifecycle';
import type { OverloadResult } from './scenarios/overload';
import type { SustainedPhase, SustainedResult } from './scenarios/sustained';
import { ARRIVAL_SPREAD_MS, RETRY_JITTER } from './scenarios/sustained-clients';
import {
  CEILING_GET,
  CEILING_GET_PROCESSES,
  cpuMsOf,
  CREATE,
  GET,
  type ThroughputResult,
} from './scenarios/throughput';
import type { TracingResult, TracingRound } from './scenarios/tracing';
import { machineLine, type Machine } from './machine';
import type { BenchOptions, ScenarioName } from './options';

export const ROOT = resolve(__dirname, '../..');

export type Outcome<T> = { ok: true; result: T } | { ok: false; error: string };

export interface Report {
  at: string;
  machine: Machine;
  stack: { database?: string; processes: string[]; missing: string[] };
  settings: Omit<BenchOptions, 'help' | 'build'>;
  results: {
    dbcommands?: Outcome<DbCommandsResult>;
    throughput?: Outcome<ThroughputResult>;
    overload?: Outcome<OverloadResult>;
    sustained?: Outcome<SustainedResult>;
    tracing?: Outcome<TracingResult>;
    lifecycle?: Outcome<LifecycleResult>;
    growth?: Outcome<GrowthResult>;
  };
}

const f = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);
const pct = (share: number) => `${f(share * 100)} %`;
const table = (head: string[], rows: string[][]) => [
  `| ${head.join(' | ')} |`,
  `| ${head.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];
const tally = (counts: Record<string, number>) =>
  Object.keys(counts).length === 0
    ? '0'
    : Object.entries(counts)
        .map(([k, n]) => `${n} × ${k}`)
        .join(', ');

/** The order processes are listed in: services, then infrastructure, then the summary rows. */
const SUMMARY = ['total (system)', 'load generator', 'other processes'];
function processRows(labels: string[]): string[] {
  const rest = labels.filter((l) => !SUMMARY.includes(l));
  return [...rest, ...SUMMARY.filter((l) => labels.includes(l))];
}

function dbCommandsSection(r: DbCommandsResult): string[] {
  const m = r.medianRound;
  const names = Object.keys(m.perOrder)
    .filter((k) => Math.abs(m.perOrder[k]!) >= 0.05 || Math.abs(m.perGet[k] ?? 0) >= 0.05)
    .sort((a, b) => m.perOrderWithoutStatusGets[b]! - m.perOrderWithoutStatusGets[a]!);
  return [
    `### Database commands per order`,
    '',
    `From the POST to \`awaiting_payment\`, ${r.ordersPerRound} orders one at a time. Each round follows ` +
      `${f(r.idleWindowSeconds, 0)} s of idle time whose commands (median ${f(r.idleCommandsPerSecond)}/s) are subtracted. ` +
      `The bench polls each order every 20 ms after most of the usual wait (${f(m.statusGetsPerOrder)} GETs per order), ` +
      `and measures what one GET costs (${f(totalOf(m.perGet), 2)} commands) to take them out. ` +
      `Breakdown of the median round; all rounds: ${r.roundTotals.map((t) => f(t)).join(', ')}. Source: ${r.source}.`,
    '',
    ...table(
      ['command', 'per order', 'with the status GETs'],
      [
        ...names.map((k) => [k, f(m.perOrderWithoutStatusGets[k]), f(m.perOrder[k])]),
        ['**total**', `**${f(m.totalWithoutStatusGets)}**`, f(m.total)],
      ],
    ),
    '',
    `FerretDB CPU per order: **${f(r.cpuMsPerOrderWithoutStatusGets.ferretdb, 2)} ms** ` +
      `(median of rounds, idle subtracted, status GETs taken out). ` +
      `POST → awaiting_payment: p50 ${f(r.toAwaitingPaymentMs.p50, 0)} ms, slowest ${f(r.toAwaitingPaymentMs.max, 0)} ms. ` +
      `The rest of the machine used ${pct(r.restOfMachine)} of a core meanwhile.`,
    '',
    ...table(
      ['CPU ms per order', 'idle subtracted, status GETs out', 'idle subtracted', 'nothing subtracted'],
      processRows(Object.keys(r.cpuMsPerOrderRaw))
        .filter((l) => Math.abs(r.cpuMsPerOrderRaw[l] ?? 0) >= 0.05)
        .map((l) => [
          l,
          f(r.cpuMsPerOrderWithoutStatusGets[l], 2),
          f(r.cpuMsPerOrder[l], 2),
          f(r.cpuMsPerOrderRaw[l], 2),
        ]),
    ),
  ];
}

function warmUpCell({ seconds, costs }: WarmUpSummary): string {
  const span = costs.length > 0 ? `, ${f(costs[0]!, 2)} → ${f(costs.at(-1)!, 2)}` : '';
  return `${f(seconds, 0)}${span}`;
}

function throughputSection(r: ThroughputResult, settings: Report['settings']): string[] {
  const names = Object.keys(r.scenarios);
  const labels = processRows([
    ...new Set(names.flatMap((n) => Object.keys(r.scenarios[n]!.cpuMsPerRequest))),
  ]);
  return [
    `### Throughput`,
    '',
    `${settings.connections} connections, one continuous run per scenario: a warm-up in windows of ${settings.durationS} s, for at least ${settings.warmUpMinS} s and then until the machine's CPU per 2xx stops falling (the median of the last ${SETTLED_SPAN} windows no more than ${SETTLED_WITHIN * 100} % below that of the ${SETTLED_SPAN} before; at most ${settings.warmUpMaxS} s), then ${settings.rounds} windows of ${settings.durationS} s; medians of the windows. Answers count in the window they arrive in. ` +
      "The warm-up is the services' JIT compilers at work (V8 optimises on background threads, and that CPU is the process's): the figures are those of services that have been running, as deployed ones have.",
    '',
    ...table(
      [
        'scenario',
        '2xx/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'not 2xx (per window)',
        'DB commands per 2xx',
        'warm-up: s, CPU ms per 2xx first → last',
      ],
      names.map((n) => {
        const s = r.scenarios[n]!;
        const failures = Object.fromEntries(Object.entries(s.failures).map(([k, v]) => [k, Math.round(v)]));
        return [
          n,
          f(s.okPerSecond, 0),
          f(s.p50),
          f(s.p90),
          f(s.p99),
          tally(failures),
          s.dbCommandsPerRequest === undefined ? '–' : f(s.dbCommandsPerRequest, 2),
          warmUpCell(s.warmUp),
        ];
      }),
    ),
    '',
    `Create-order = ${f(r.ratios.createOrderVsHttpCeiling! * 100)} % of the bare HTTP ceiling, get-order = ${f(r.ratios.getOrderVsHttpCeiling! * 100)} %. ` +
      "DB commands per 2xx: the database server's count over each window (every client's, the orders' asynchronous steps and the services' pollers included), divided by the window's 2xx answers.",
    '',
    ...librariesOnlyLines(r),
    '',
    `### CPU ms per request, per process`,
    '',
    'utime+stime from `/proc/<pid>/stat` at the edges of each window, divided by its 2xx answers; median of windows. ' +
      'PostgreSQL counts its postmaster and every backend; "other processes" is the rest of the machine.',
    '',
    ...table(
      ['process', ...names.map((n) => n.replace(/^ceiling: /, ''))],
      labels
        .filter((l) => names.some((n) => (r.scenarios[n]!.cpuMsPerRequest[l] ?? 0) >= 0.005))
        .map((l) => [l, ...names.map((n) => f(r.scenarios[n]!.cpuMsPerRequest[l], 2))]),
    ),
    '',
    `Resident memory (MB): ${Object.entries(r.residentMemoryMb)
      .map(([n, mb]) => `${n} ${mb}`)
      .join(', ')}`,
  ];
}

/** What get-order costs above the same path in its libraries alone (ceiling-get-order.ts). */
function librariesOnlyLines(r: ThroughputResult): string[] {
  const ceiling = r.scenarios[CEILING_GET];
  if (!ceiling) return [];
  const ours = cpuMsOf(r.scenarios[GET]!, OUR_PROCESSES);
  const librariesOnly = cpuMsOf(ceiling, CEILING_GET_PROCESSES);
  return [
    `"${CEILING_GET.replace(/^ceiling: /, '')}" is get-order's path in two processes of the same libraries and nothing of ours: ` +
      'a Fastify route that calls GetOrder over grpc-js with the generated contract, and a grpc-js server that reads the same order ' +
      "with the driver's findOne by _id (no tracing, admission, policies, validation, metrics or logs). " +
      `Get-order = ${f(r.ratios.getOrderVsLibrariesOnly! * 100, 0)} % of its rate; our six processes use ${f(ours, 2)} ms of CPU per get against its two processes' ${f(librariesOnly, 2)} ms ` +
      `(${f(ours / librariesOnly, 2)}×): ${f(ours - librariesOnly, 2)} ms per get is what our layers add.`,
  ];
}

function overloadSection(r: OverloadResult): string[] {
  return [
    `### Overload`,
    '',
    `${r.requests} concurrent creates, each its own customer and Idempotency-Key, against one item with stock ${r.stock}.`,
    '',
    ...table(
      [
        'accepted (201)',
        'out_of_stock (409)',
        'other 4xx',
        '5xx',
        'no answer',
        'p50 ms',
        'slowest answer ms',
      ],
      [
        [
          String(r.accepted),
          String(r.outOfStock),
          tally(r.other4xx),
          tally(r.server5xx),
          String(r.noAnswer),
          f(r.latencyMs.p50, 0),
          f(r.latencyMs.slowest, 0),
        ],
      ],
    ),
    '',
    `Stock afterwards: ${r.stockAfter.reserved} reserved (held ${r.stockAfter.held}, committed ${r.stockAfter.committed}), ` +
      `${r.stockAfter.available ?? 'unknown'} available: ${r.addsUp ? 'adds up' : '**does not add up**'} ` +
      `(expected: reserved = accepted = ${Math.min(r.stock, r.requests)}, ${Math.max(0, r.stock - r.requests)} available). ` +
      `The database ${r.databasePingMs === null ? '**did not answer** a ping' : `answered a ping in ${f(r.databasePingMs, 0)} ms`} right after. ` +
      `CPU per request during the burst: ${f(r.cpuMsPerRequest['total (system)'])} ms for the whole system, ${f(r.cpuMsPerRequest.ferretdb)} ms of it in FerretDB.`,
  ];
}

function sustainedSection(r: SustainedResult): string[] {
  const row = (p: SustainedPhase) => [
    String(p.connections),
    f(p.createdPerSecond),
    tally(Object.fromEntries(Object.entries(p.answers).filter(([status]) => status !== '201'))),
    f(p.p99CreatedMs, 0),
    f(p.p99RefusedMs, 0),
    String(p.refusalsWithoutRetryAfter),
    f(p.cpuMsPerCreated['total (system)']),
    f(p.generatorLagP99Ms, 0),
  ];
  return [
    `### Sustained overload`,
    '',
    `Creates for ${r.normal.durationS} s from each number of clients; each client sends one request at a time and, after a 503 or 429, waits what \`retry-after\` says plus a random 0–${RETRY_JITTER * 100} % of it (jitter, as well-behaved clients do). ` +
      `The clients arrive spread over the first ${ARRIVAL_SPREAD_MS} ms rather than in one instant. ` +
      `The clients run on a thread of their own (scheduling priority: nice ${r.overload.generatorPriority}); they share the machine all the same, and their own event-loop lag is part of every latency they measure.`,
    '',
    ...table(
      [
        'clients',
        'created/s',
        'other answers',
        'p99 created ms',
        'p99 refused ms',
        'refusals without retry-after',
        'CPU ms per created order',
        "load generator's event-loop lag p99 ms",
      ],
      [row(r.normal), row(r.overload)],
    ),
    '',
    `Ceiling, measured in the same run: the same ${r.refusalCeiling.connections} clients against a bare Fastify handler that refuses every request got ${r.refusalCeiling.refusals} refusals at p99 ${f(r.refusalCeiling.p99RefusedMs, 0)} ms ` +
      `(the gateway's p99 refused at ${r.overload.connections} clients is ${f(r.overload.p99RefusedMs / r.refusalCeiling.p99RefusedMs, 1)}× that).`,
    '',
    `Goodput at ${r.overload.connections} clients = ${f(r.goodputRatio * 100, 0)} % of the goodput at ${r.normal.connections}. ` +
      `${r.recovery.afterS} s after the load stopped, 5 creates answered ${r.recovery.statuses.join(', ')}` +
      `${r.recovery.servedNormally ? '' : ' (**not served normally**)'}.`,
  ];
}

function tracingSection(r: TracingResult): string[] {
  const warmUps =
    (['create', 'get'] as const)
      .flatMap((kind) =>
        (['on', 'off'] as const).map((mode) => `${kind}, ${mode}: ${warmUpCell(r.warmUp[kind][mode])}`),
      )
      .join('; ') + ' — s, CPU ms per 2xx first → last';
  const row = (mode: string, x: TracingResult['on']) => [
    mode,
    f(x.createPerSecond),
    f(x.createCpuMs),
    f(x.getPerSecond, 0),
    f(x.getCpuMs, 2),
  ];
  return [
    `### Tracing on against off`,
    '',
    `Two systems of their own, side by side: as deployed (every request traced into Jaeger), and started with \`OTEL_SDK_DISABLED=true\`. Each is first warmed up with each kind of load as in the throughput table, until the machine's CPU per 2xx stops falling (${warmUps}). Then the load alternates between them (on, off, off, on, …; ${r.resumeWarmUpS === undefined ? 'a warm-up window' : `${r.resumeWarmUpS} s of load`} and then a measured window each time, ${r.windowsPerMode} measured windows per system and request kind). Each round's cost is 1 − on ÷ off of its two windows, which ran next to each other, and the figure is the median of the rounds: drift on the machine between rounds falls on both systems of a round alike. The table gives medians per system.`,
    '',
    ...table(
      ['tracing', 'create-order 2xx/s', 'CPU ms per create', 'get-order 2xx/s', 'CPU ms per get'],
      [row('on', r.on), row('off', r.off)],
    ),
    '',
    `Tracing costs ${f(r.throughputCost.create * 100, 0)} % of create-order throughput and ${f(r.throughputCost.get * 100, 0)} % of get-order throughput.`,
    ...tracingRounds(r.rounds),
    '',
    'CPU ms per request, per process (medians of the windows):',
    '',
    ...table(
      ['process', 'create, on', 'create, off', 'get, on', 'get, off'],
      Object.keys(r.on.createCpuMsByProcess ?? {}).map((label) => [
        label,
        f(r.on.createCpuMsByProcess[label] ?? NaN, 2),
        f(r.off.createCpuMsByProcess[label] ?? NaN, 2),
        f(r.on.getCpuMsByProcess[label] ?? NaN, 2),
        f(r.off.getCpuMsByProcess[label] ?? NaN, 2),
      ]),
    ),
  ];
}

/** Each round's two windows and the cost they give, per request kind. */
function tracingRounds(rounds: TracingResult['rounds']): string[] {
  if (!rounds) return [];
  const cells = (round: TracingRound | undefined, digits: number) =>
    round
      ? [f(round.rate.on, digits), f(round.rate.off, digits), `${f(round.cost * 100, 0)} %`]
      : ['–', '–', '–'];
  return [
    '',
    ...table(
      [
        'round',
        'ran first',
        'create on/s',
        'create off/s',
        'create cost',
        'get on/s',
        'get off/s',
        'get cost',
      ],
      rounds.create.map((create, i) => [
        String(i + 1),
        create.first,
        ...cells(create, 1),
        ...cells(rounds.get[i], 0),
      ]),
    ),
  ];
}

function lifecycleSection(r: LifecycleResult): string[] {
  return [
    `### Lifecycle`,
    '',
    `${r.orders + r.failed} orders, create → ready, 32 at a time; ${r.orders} reached ready: ${f(r.ordersPerSecond)} orders/s; paid → ready p50 ${f(r.paidToReadyMs.p50, 0)} ms, ` +
      `p99 ${f(r.paidToReadyMs.p99, 0)} ms (simulated ${r.prepMsExcluded} ms prep excluded). ` +
      `CPU per order: ${f(r.cpuMsPerOrder['total (system)'])} ms for the whole system, ${f(r.cpuMsPerOrder.ferretdb)} ms of it in FerretDB.` +
      (r.failed > 0 ? ` **${r.failed} orders failed** (first: ${r.firstFailure}).` : ''),
  ];
}

function growthSection(r: GrowthResult | undefined): string[] {
  if (!r)
    return [
      `### Data growth`,
      '',
      'Not part of this run (it takes several minutes): `npm run bench -- --only=growth`, or `npm run bench -- --growth` for everything.',
    ];
  return [
    `### Data growth`,
    '',
    `Seeding: ${r.seeding} (${f(r.seedRatePerSecond, 0)} documents/s). Idle = no traffic; CPU as a share of one core. ` +
      `After each seeding the run waits until the database (the server, and PostgreSQL under FerretDB) uses under ${DATABASE_SETTLE.threshold * 100} % of a core ` +
      `over ${DATABASE_SETTLE.windowMs / 1000} s, at least ${DATABASE_SETTLE.minS} s: a bulk insert leaves it work (autovacuum and analyze of the new rows) that orders arriving over weeks would have had done long ago.`,
    '',
    ...table(
      [
        'orders stored',
        'database settled after s',
        'FerretDB idle',
        'PostgreSQL idle',
        'our services idle',
        'rest of the machine',
        'get-order p50 ms',
        'get p90 ms',
        'create-order/s',
        'create p99 ms',
        'create not 2xx',
      ],
      r.phases.map((p) => [
        String(p.ordersStored),
        p.databaseSettle
          ? `${f(p.databaseSettle.seconds, 0)}${p.databaseSettle.settled ? '' : ' (still busy)'}`
          : '–',
        pct(p.idle.ferretdb),
        pct(p.idle.postgres),
        pct(p.idle.services),
        pct(p.idle.restOfMachine),
        f(p.getOrderMs.p50),
        f(p.getOrderMs.p90),
        f(p.createOrder.okPerSecond, 0),
        f(p.createOrder.p99, 0),
        tally(Object.fromEntries(Object.entries(p.createOrder.failures).map(([k, v]) => [k, Math.round(v)]))),
      ]),
    ),
  ];
}

/** Issue 7's "done means", checked against this run's figures. */
function targetsSection(report: Report): string[] {
  const rows: string[][] = [];
  const check = (what: string, target: string, value: string, met: boolean) =>
    rows.push([what, target, value, met ? 'yes' : '**no**']);
  const { dbcommands, throughput, overload, growth } = report.results;
  if (dbcommands?.ok) {
    const r = dbcommands.result;
    const total = r.medianRound.totalWithoutStatusGets;
    const ferret = r.cpuMsPerOrderWithoutStatusGets.ferretdb ?? NaN;
    check('DB commands per order (sequential, idle subtracted)', '≤ 15', f(total), total <= 15);
    check(
      'FerretDB CPU per order, one at a time (idle subtracted)',
      '≤ 4 ms',
      `${f(ferret, 2)} ms`,
      ferret <= 4,
    );
  }
  if (throughput?.ok) {
    // The issue's 14.4 ms was FerretDB's share of create-order at 64 connections.
    const ferret = throughput.result.scenarios[CREATE]!.cpuMsPerRequest.ferretdb ?? NaN;
    check(
      `FerretDB CPU per order, create-order at ${report.settings.connections} connections`,
      '≤ 4 ms',
      `${f(ferret, 2)} ms`,
      ferret <= 4,
    );
    const rps = throughput.result.scenarios[CREATE]!.okPerSecond;
    check(
      `create-order at ${report.settings.connections} connections`,
      '≥ 120 orders/s (201s)',
      `${f(rps, 0)}/s`,
      rps >= 120,
    );
  }
  if (overload?.ok) {
    const r = overload.result;
    const fivexx = Object.values(r.server5xx).reduce((a, b) => a + b, 0);
    check(
      `${r.requests} creates vs stock ${r.stock}`,
      `${r.stock} accepted, ${r.requests - r.stock} out_of_stock, no 5xx`,
      `${r.accepted} / ${r.outOfStock} / ${fivexx} 5xx`,
      r.accepted === r.stock && r.outOfStock === r.requests - r.stock && fivexx === 0 && r.addsUp,
    );
  }
  if (growth?.ok) {
    const [base, grown] = growth.result.phases;
    if (base && grown) {
      check(
        `FerretDB idle, ${grown.ordersStored} orders`,
        '≤ 5 % of a core',
        pct(grown.idle.ferretdb),
        grown.idle.ferretdb <= 0.05,
      );
      check(
        `our services idle, ${grown.ordersStored} orders`,
        '≤ 2 % of a core',
        pct(grown.idle.services),
        grown.idle.services <= 0.02,
      );
      // "as fast as": within 20 % (or 2 ms for the get), allowing for noise between the phases.
      const vs = `${grown.ordersStored} vs ${base.ordersStored} orders`;
      check(
        `get-order p50, ${vs}`,
        'as fast',
        `${f(grown.getOrderMs.p50)} vs ${f(base.getOrderMs.p50)} ms`,
        grown.getOrderMs.p50 <= Math.max(base.getOrderMs.p50 * 1.2, base.getOrderMs.p50 + 2),
      );
      check(
        `create-order, ${vs}`,
        'as fast',
        `${f(grown.createOrder.okPerSecond, 0)} vs ${f(base.createOrder.okPerSecond, 0)}/s`,
        base.createOrder.okPerSecond > 0 &&
          grown.createOrder.okPerSecond >= base.createOrder.okPerSecond * 0.8,
      );
    }
  }
  if (rows.length === 0) return [];
  return ['### Against issue 7', '', ...table(['figure', 'target', 'this run', 'met'], rows)];
}

const OUR_PROCESSES = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'];

/** Issue 8's "done means" that this run measured. */
function efficiencyTargetsSection(report: Report): string[] {
  const rows: string[][] = [];
  const check = (what: string, target: string, value: string, met: boolean) =>
    rows.push([what, target, value, met ? 'yes' : '**no**']);
  const { throughput, sustained, tracing, dbcommands } = report.results;
  if (dbcommands?.ok) {
    const idle = dbcommands.result.idleCommandsPerSecond;
    check(
      'idle database commands, whole system',
      '≤ 2 per second',
      `${f(idle, 2)}/s (driver heartbeats included)`,
      idle <= 2,
    );
  }
  if (throughput?.ok) {
    const ours = (name: string) => cpuMsOf(throughput.result.scenarios[name]!, OUR_PROCESSES);
    const create = throughput.result.scenarios[CREATE]!;
    const get = throughput.result.scenarios[GET]!;
    const conns = report.settings.connections;
    check('create-order CPU, our six processes', '≤ 5 ms', `${f(ours(CREATE), 2)} ms`, ours(CREATE) <= 5);
    const bare = throughput.result.scenarios[CEILING_GET];
    const librariesOnly = bare && cpuMsOf(bare, CEILING_GET_PROCESSES);
    check(
      'get-order CPU, our six processes',
      '≤ 0.8 ms',
      `${f(ours(GET), 2)} ms` + (librariesOnly ? ` (the libraries alone: ${f(librariesOnly, 2)} ms)` : ''),
      ours(GET) <= 0.8,
    );
    check(
      `create-order at ${conns} connections`,
      '≥ 200/s, p99 ≤ 250 ms',
      `${f(create.okPerSecond, 0)}/s, p99 ${f(create.p99, 0)} ms`,
      create.okPerSecond >= 200 && create.p99 <= 250,
    );
    check(
      `get-order at ${conns} connections`,
      '≥ 1000/s, p99 ≤ 150 ms',
      `${f(get.okPerSecond, 0)}/s, p99 ${f(get.p99, 0)} ms` +
        (bare ? ` (the libraries alone: ${f(bare.okPerSecond, 0)}/s, p99 ${f(bare.p99, 0)} ms)` : ''),
      get.okPerSecond >= 1000 && get.p99 <= 150,
    );
  }
  if (sustained?.ok) {
    const r = sustained.result;
    const other = Object.keys(r.overload.answers).filter((s) => !['201', '503', '429'].includes(s));
    check(
      `goodput at ${r.overload.connections} vs ${r.normal.connections} clients`,
      '≥ 80 %',
      `${f(r.goodputRatio * 100, 0)} %`,
      r.goodputRatio >= 0.8,
    );
    check(
      `answers at ${r.overload.connections} clients`,
      '201, or 503/429 with retry-after, p99 < 100 ms',
      `other: ${other.length === 0 ? 'none' : other.join(', ')}; without retry-after: ${r.overload.refusalsWithoutRetryAfter}; p99 refused ${f(r.overload.p99RefusedMs, 0)} ms (a bare refusing handler: ${f(r.refusalCeiling.p99RefusedMs, 0)} ms)`,
      other.length === 0 && r.overload.refusalsWithoutRetryAfter === 0 && !(r.overload.p99RefusedMs >= 100),
    );
    check(
      `served normally ${r.recovery.afterS} s later`,
      'yes',
      r.recovery.statuses.join(', '),
      r.recovery.servedNormally,
    );
  }
  if (tracing?.ok) {
    const cost = Math.max(tracing.result.throughputCost.create, tracing.result.throughputCost.get);
    check(
      'tracing on vs off',
      '≤ 15 % of throughput',
      `${f(cost * 100, 0)} % (worse of create, get)`,
      cost <= 0.15,
    );
  }
  if (rows.length === 0) return [];
  return ['### Against issue 8', '', ...table(['figure', 'target', 'this run', 'met'], rows)];
}

export function toMarkdown(report: Report, heading = '###'): string {
  const { results } = report;
  const sections: string[][] = [];
  const add = <T>(name: ScenarioName, outcome: Outcome<T> | undefined, render: (r: T) => string[]) => {
    if (!outcome) return;
    sections.push(outcome.ok ? render(outcome.result) : [`### ${name}`, '', `**Failed:** ${outcome.error}`]);
  };
  add('dbcommands', results.dbcommands, dbCommandsSection);
  add('throughput', results.throughput, (r) => throughputSection(r, report.settings));
  add('overload', results.overload, overloadSection);
  add('sustained', results.sustained, sustainedSection);
  add('tracing', results.tracing, tracingSection);
  add('lifecycle', results.lifecycle, lifecycleSection);
  if (results.growth) add('growth', results.growth, growthSection);
  else if (!report.settings.partial) sections.push(growthSection(undefined));
  for (const targets of [targetsSection(report), efficiencyTargetsSection(report)])
    if (targets.length > 0) sections.push(targets);
  // Sections are written with ### headings; they go one level below the run's heading.
  const nest = (line: string) => (line.startsWith('### ') ? `${heading}#${line.slice(3)}` : line);
  return [
    `${heading} Run of ${report.at}`,
    '',
    `Machine: ${machineLine(report.machine)}. Whole stack local; database server: ${report.stack.database ?? 'unknown'}.` +
      (report.stack.missing.length > 0
        ? ` Not measured (not found): ${report.stack.missing.join(', ')}.`
        : ''),
    '',
    ...sections.flatMap((s) => [...s.map(nest), '']),
  ].join('\n');
}

async function formatted(markdown: string, filepath: string): Promise<string> {
  const config = (await resolveConfig(filepath)) ?? {};
  return format(markdown, { ...config, filepath });
}

export const HOW_TO_RUN = [
  '```sh',
  'npm run bench                        # everything but data growth (about 17 minutes on 2 cores)',
  'npm run bench -- --growth            # and data growth: 100k orders seeded (about 3 minutes more)',
  'npm run bench -- --only=dbcommands   # one figure: dbcommands, throughput, overload, sustained, tracing, lifecycle, growth',
  'npm run bench -- --help              # every option and environment variable',
  '```',
  '',
  'The bench builds the services, brings up the stack if needed, and starts its own services',
  '(TestSystem) in deployments of their own. A full run writes `bench-results/latest.{json,md}` and',
  'this section; `--only` writes `bench-results/<scenarios>.{json,md}`. The same figures can be',
  'checked from outside with `../shared/measure/` (cpu-per-request.mjs, db-commands-per.sh).',
].join('\n');

/** Writes bench-results/<name>.{json,md}; a full run also rewrites the README's benchmark section. */
export async function writeReport(report: Report): Promise<string> {
  const outDir = resolve(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const name = report.settings.partial ? report.settings.scenarios.join('+') : 'latest';
  writeFileSync(resolve(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const mdPath = resolve(outDir, `${name}.md`);
  const markdown = await formatted(`# Benchmark\n\n${toMarkdown(report, '##')}\n`, mdPath);
  writeFileSync(mdPath, markdown);
  if (!report.settings.partial) await updateReadme(report);
  return markdown;
}

export async function updateReadme(report: Report): Promise<void> {
  const path = resolve(ROOT, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf('<!-- bench:start -->');
  const end = readme.indexOf('<!-- bench:end -->');
  if (start === -1 || end < start) {
    console.warn('README.md has no <!-- bench:start --> … <!-- bench:end --> section; left alone');
    return;
  }
  const section = `<!-- bench:start -->\n\n${HOW_TO_RUN}\n\n${toMarkdown(report, '###')}\n\n`;
  const next = readme.slice(0, start) + section + readme.slice(end);
  writeFileSync(path, await formatted(next, path));
}
