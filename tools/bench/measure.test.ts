// The bench's arithmetic and parsing, without a running system.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuMeter, msPer, usageBetween, type CpuReading } from './cpu-meter';
import { measureWindows, settled, type ContinuousLoad } from './load';
import {
  diffCounts,
  parseFerretMetrics,
  parseServerStatusCommands,
  perOperation,
  totalOf,
  type CommandCounter,
} from './db-counters';
import { parseOptions } from './options';
import { databaseServerName } from './processes';
import { listeningInodes, parseStat, processTree, readProcesses, type ProcessStat } from './proc';
import { copyOrder, shiftDates } from './seed-orders';
import { median, medianByKey, percentile } from './stats';
import { pairedCost, roundCost } from './scenarios/tracing';

test('parseStat reads utime+stime+cutime+cstime and a command name with spaces and parentheses', () => {
  const line = '4242 (postgres: x (y)) S 2238 4242 4242 0 -1 4194560 100 0 0 0 25 7 3 1 20 0 1 0 500 0 0';
  assert.deepEqual(parseStat(line), { pid: 4242, ppid: 2238, comm: 'postgres: x (y)', ticks: 36 });
});

test('readProcesses sees this process, and processTree walks down from a root', () => {
  const own = readProcesses().get(process.pid);
  assert.ok(own && own.ticks >= 0);
  const p = (pid: number, ppid: number): [number, ProcessStat] => [pid, { pid, ppid, comm: 'x', ticks: 0 }];
  const procs = new Map([p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1)]);
  assert.deepEqual(processTree(procs, 10).sort(), [10, 11, 12, 13]);
  assert.deepEqual(processTree(procs, 99), []);
});

test('listeningInodes picks LISTEN sockets on the port from a /proc/net/tcp table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const file = join(dir, 'tcp');
  writeFileSync(
    file,
    [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:6989 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0',
      '   1: 0100007F:6989 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0',
      '   2: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0',
    ].join('\n'),
  );
  assert.deepEqual([...listeningInodes(27017, [file])], ['1111']);
  assert.deepEqual([...listeningInodes(5432, [file])], ['3333']);
});

test('CPU usage between readings: per group, load generator, and the rest of the machine', () => {
  const before: CpuReading = {
    atMs: 0,
    ticks: { order: 100, ferretdb: 50 },
    selfMicros: 0,
    machineTicks: 1000,
  };
  const after: CpuReading = {
    atMs: 2000,
    ticks: { order: 150, ferretdb: 80 },
    selfMicros: 100_000,
    machineTicks: 1100,
  };
  const usage = usageBetween(before, after);
  assert.equal(usage.seconds, 2);
  assert.deepEqual(usage.ms, { order: 500, ferretdb: 300 });
  assert.equal(usage.loadGeneratorMs, 100);
  assert.equal(usage.otherMs, 100); // 1000 ms busy − 800 − 100
  const per = msPer(usage, 100);
  assert.equal(per.order, 5);
  assert.equal(per['total (system)'], 8);
});

test('FerretDB metrics are summed by command over opcodes', () => {
  const text = [
    '# HELP ferretdb_client_requests_total Total number of requests.',
    'ferretdb_client_requests_total{command="find",opcode="OP_MSG"} 10',
    'ferretdb_client_requests_total{command="hello",opcode="OP_MSG"} 3',
    'ferretdb_client_requests_total{command="hello",opcode="OP_QUERY"} 2',
    'ferretdb_client_responses_total{argument="unknown",command="find",opcode="OP_MSG",result="ok"} 10',
  ].join('\n');
  assert.deepEqual(parseFerretMetrics(text), { find: 10, hello: 5 });
});

test('serverStatus command metrics leave serverStatus itself out', () => {
  assert.deepEqual(
    parseServerStatusCommands({
      find: { failed: 0, total: 7 },
      serverStatus: { failed: 0, total: 99 },
      update: { arrayFilters: 0, total: 2 },
      '<UNKNOWN>': 0,
    }),
    { find: 7, update: 2 },
  );
});

test('commands per operation subtract the idle window scaled to the measured length', () => {
  const before = { find: 100, insert: 10, hello: 5 };
  const after = { find: 160, insert: 30, hello: 9 };
  const measured = diffCounts(before, after); // find 60, insert 20, hello 4
  const idle = { find: 20, hello: 4 }; // over half the measured time
  const per = perOperation(measured, idle, 2, 10);
  assert.deepEqual(per, { find: 2, insert: 2, hello: -0.4 });
  assert.equal(totalOf(per), 3.6);
});

test('a seeded copy is another order of another customer, every date moved back by one offset', () => {
  const at = new Date('2026-11-20T10:00:00Z');
  const template = {
    _id: 'real-order',
    customerId: 'alice',
    status: 'ready',
    createdAt: at,
    history: [{ status: 'pending', at }],
    items: [{ itemId: 'x', quantity: 1 }],
  };
  const copy = copyOrder(template, 5001, () => 0.5);
  assert.notEqual(copy._id, 'real-order');
  assert.equal(typeof copy._id, 'string');
  assert.equal(copy.customerId, 'seed-c1');
  const shift = (copy.createdAt as Date).getTime() - at.getTime();
  assert.equal(shift, -45 * 24 * 3600 * 1000);
  assert.equal((copy.history as { at: Date }[])[0]!.at.getTime() - at.getTime(), shift);
  assert.deepEqual(copy.items, template.items);
  assert.equal(template.createdAt, at, 'the template is untouched');
  assert.deepEqual(shiftDates({ n: 1, s: 'x', a: [null] }, 5), { n: 1, s: 'x', a: [null] });
});

test('median, percentile and per-key medians', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
  assert.deepEqual(medianByKey([{ a: 1, b: 5 }, { a: 3 }, { a: 2, b: 7 }]), { a: 2, b: 6 });
});

test('options: --only picks scenarios, growth only when asked', () => {
  assert.deepEqual(parseOptions([], {}).scenarios, [
    'dbcommands',
    'throughput',
    'overload',
    'sustained',
    'tracing',
    'lifecycle',
  ]);
  assert.equal(parseOptions([], {}).partial, false);
  assert.ok(parseOptions(['--growth'], {}).scenarios.includes('growth'));
  assert.ok(parseOptions([], { BENCH_GROWTH: '1' }).scenarios.includes('growth'));
  const only = parseOptions(['--only=overload,dbcommands'], {});
  assert.deepEqual(only.scenarios, ['dbcommands', 'overload']);
  assert.equal(only.partial, true);
  assert.throws(() => parseOptions(['--only=nope'], {}), /unknown scenario nope/);
  assert.throws(() => parseOptions([], { BENCH_ROUNDS: 'x' }), /BENCH_ROUNDS=x/);
});

test('a continuous run counts each answer in the window it arrives in, leaves the warm-up out, and stops the load', async () => {
  let sent = 0;
  let stopped = false;
  const load: ContinuousLoad = (sink) => {
    const timer = setInterval(() => {
      sent += 1;
      sink.current.answer(sent % 4 === 0 ? 503 : 201, 3);
    }, 5);
    return {
      stop: async () => {
        clearInterval(timer);
        stopped = true;
      },
    };
  };
  const { windows } = await measureWindows(
    { connections: 1, durationS: 0.2, rounds: 3 },
    new CpuMeter([]),
    load,
  );
  assert.equal(stopped, true);
  assert.equal(windows.length, 3);
  const counted = windows.reduce((sum, w) => sum + w.result.requests, 0);
  // the warm-up window's answers (about a quarter of them) are not in any window
  assert.ok(counted > 0 && counted < sent, `${counted} counted of ${sent} sent`);
  for (const { result, usage } of windows) {
    assert.ok(result.ok > 0 && result.failures['503']! > 0);
    assert.equal(result.requests, result.ok + result.failures['503']!);
    assert.ok(Math.abs(result.okPerSecond - result.ok / usage.seconds) < 1e-9);
  }
});

test('a warm-up rule keeps the load running until the cost per answer stops falling, within its bounds', async () => {
  // The cost of an answer falls window after window (a fresh process compiling its code), with one
  // slow window on the way (a noisy machine), then holds.
  const costs = [40, 20, 21, 10, 8, 8, 8, 8, 8, 8, 8, 8];
  const load: ContinuousLoad = (sink) => {
    const timer = setInterval(() => sink.current.answer(200, 1), 5);
    return { stop: async () => clearInterval(timer) };
  };
  let window = 0;
  const costOf = () => costs[Math.min(window++, costs.length - 1)]!;
  const settledRun = await measureWindows(
    { connections: 1, durationS: 0.1, rounds: 2, warmUp: { costOf, minS: 0.15, maxS: 5 } },
    new CpuMeter([]),
    load,
  );
  // the median of the last three windows against that of the three before: 8 against 21, 20 and
  // 10 is still falling; 8 against 8 is not
  assert.deepEqual(settledRun.warmUp.costs, [40, 20, 21, 10, 8, 8, 8, 8, 8]);
  assert.equal(settledRun.windows.length, 2);
  assert.ok(settledRun.warmUp.seconds >= 0.85, `${settledRun.warmUp.seconds} s`);

  window = 0;
  const capped = await measureWindows(
    { connections: 1, durationS: 0.1, rounds: 1, warmUp: { costOf, minS: 0.01, maxS: 0.05 } },
    new CpuMeter([]),
    load,
  );
  // still falling when the time is up: the warm-up ends at maxS all the same
  assert.deepEqual(capped.warmUp.costs, [40]);

  const plain = await measureWindows({ connections: 1, durationS: 0.1, rounds: 1 }, new CpuMeter([]), load);
  assert.deepEqual(plain.warmUp.costs, [], 'without a rule, one warm-up window');
  assert.ok(plain.warmUp.seconds > 0.05);
});

test('settled: one lucky fast window does not end a warm-up that is still falling', () => {
  // a tracing run's warm-up: one fast window early on, then slower ones still falling
  const falling = [42, 33, 40, 38, 37, 36];
  // every window after the 33 is within 5 % above it, which the earlier rule took for settled
  assert.equal(settled(falling), false);
  assert.equal(settled([...falling, 30, 27, 25, 25, 25, 25]), false);
  assert.equal(settled([...falling, 30, 27, 25, 25, 25, 25, 25]), true);
  // nor does a slow window after a fall
  assert.equal(settled([40, 38.6, 25.1, 25.8, 24, 60]), false);
  // too few windows to judge
  assert.equal(settled([8, 8, 8, 8, 8]), false);
  // noise around a level is settled
  assert.equal(settled([10, 11, 9, 10.2, 9.6, 10.4]), true);
});

test("tracing's cost is the median of each round's pair of windows, not a ratio of the systems' medians", () => {
  // the machine slowed down during the third round's window of the untraced system
  const rates = [
    { on: 100, off: 110 },
    { on: 50, off: 55 },
    { on: 100, off: 60 },
  ];
  const cost = pairedCost(rates.map((rate) => ({ cost: roundCost(rate) })));
  assert.ok(Math.abs(cost - (1 - 100 / 110)) < 1e-9, String(cost));
  // the medians of each system's windows (100 against 60) would have said tracing made it faster
  assert.ok(1 - median(rates.map((r) => r.on)) / median(rates.map((r) => r.off)) < 0);
  assert.ok(Number.isNaN(roundCost({ on: 10, off: 0 })));
});

test("a continuous run with a command counter counts the database's commands of each window", async () => {
  let commands = 0;
  // the database's own count, read at the window edges: ten finds per answer
  const counter: CommandCounter = {
    source: 'test',
    read: async () => ({ find: commands }),
    close: async () => {},
  };
  const load: ContinuousLoad = (sink) => {
    const timer = setInterval(() => {
      commands += 10;
      sink.current.answer(200, 1);
    }, 5);
    return { stop: async () => clearInterval(timer) };
  };
  const { windows } = await measureWindows(
    { connections: 1, durationS: 0.2, rounds: 2 },
    new CpuMeter([]),
    load,
    counter,
  );
  const counted = windows.reduce((sum, w) => sum + (w.commands?.find ?? 0), 0);
  const answers = windows.reduce((sum, w) => sum + w.result.ok, 0);
  assert.ok(answers > 0);
  // answers and commands are read a moment apart at each edge: one answer's worth either way
  assert.ok(Math.abs(counted - answers * 10) <= 2 * 10 * windows.length, `${counted} for ${answers} answers`);
  assert.ok(counted < commands, 'the warm-up is left out');
});

test('the database server is named without its version and build labels', () => {
  assert.equal(databaseServerName('ferretdb-v1.24.2-lean-keys'), 'ferretdb');
  assert.equal(databaseServerName('ferretdb-v1.24.2-lean'), 'ferretdb');
  assert.equal(databaseServerName('ferretdb-v1.24.2'), 'ferretdb');
  assert.equal(databaseServerName('mongod'), 'mongod');
});
