// The real local infrastructure on loopback: Consul, RabbitMQ, a MongoDB wire server (FerretDB on
// the stack's own PostgreSQL, unless a mongod is on PATH), Jaeger and stripe-mock. `up` reuses
// whatever already answers and starts the rest detached; `down` stops only what `up` started.
// Data, logs, pid files and state live in the git-ignored `.stack/` at the repository's root.
// The command line over this is tools/stack/stack.mjs.
//
//   up({ only: ['mongo'] })   // just those components (and what they depend on)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPONENTS, componentAddresses, resolveBinary } from './components.mjs';
import {
  isOurProcess,
  pollUntil,
  readPid,
  spawnDetached,
  stopProcess,
  tailFile,
  whileHoldingDirLock,
} from './proc.mjs';
import { tcpOpen } from './probes.mjs';

export { componentAddresses };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MINUTE = 60_000;

function paths() {
  const stackDir = process.env.OMS_STACK_DIR
    ? path.resolve(process.env.OMS_STACK_DIR)
    : path.join(ROOT, '.stack');
  return {
    root: ROOT,
    stackDir,
    dataDir: path.join(stackDir, 'data'),
    logsDir: path.join(stackDir, 'logs'),
    pidsDir: path.join(stackDir, 'pids'),
    lockDir: path.join(stackDir, 'lock'),
    stateFile: path.join(stackDir, 'state.json'),
  };
}

/** One error for everything that could not be had; its message names each failed component. */
export class StackError extends Error {
  constructor(failures) {
    super(
      failures
        .map(({ name, message }) => `${name}: ${message.replace(new RegExp(`^${name}: `), '')}`)
        .join('\n'),
    );
    this.name = 'StackError';
    this.failures = failures;
  }
}

function readState(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return { components: {} };
  }
}

function writeState(file, state) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

const pidFileOf = (p, c) => path.join(p.pidsDir, `${c.name}.pid`);
const logFileOf = (p, c) => path.join(p.logsDir, `${c.name}.log`);

/** The pid of a process `up` started for this component, if it is still that process. */
function ownedPid(p, c) {
  const pid = readPid(pidFileOf(p, c));
  return pid !== undefined && c.markers.some((m) => isOurProcess(pid, m)) ? pid : undefined;
}

/** Why a component is not needed this time (a string), or undefined when it is. */
async function notNeeded(c, ctx) {
  if (!c.needed) return undefined;
  const need = await c.needed(ctx);
  return need === true ? undefined : need;
}

async function ensure(c, ctx) {
  const { p, env, log } = ctx;
  const addr = c.addresses(env);
  const pidFile = pidFileOf(p, c);
  const record = ctx.state.components[c.name];

  // Not needed this time (e.g. MONGO_URL points elsewhere: no PostgreSQL for FerretDB). One of
  // ours that is running is left alone: the override may be a one-off, and `down` stops it.
  const skip = await notNeeded(c, ctx);
  if (skip) return { name: c.name, status: 'skipped', mode: '-', addr, info: { reason: skip } };

  // An env var points somewhere else: only check that it answers; never start or stop anything.
  const external = c.external(env);
  if (external) {
    const info = await c.probe(addr);
    if (info) return { name: c.name, status: 'up', mode: 'reused', addr, info, external };
    throw new Error(
      `${external} points at ${JSON.stringify(Object.values(addr).join(', '))}, which does not answer (${c.probeLabel}); unset it to have the stack start one locally`,
    );
  }

  let pid = ownedPid(p, c);
  if (c.reconcile) {
    const kept = await c.reconcile(addr, ctx, pid);
    if (pid && !kept) {
      await stopProcess(pid, { graceMs: 20_000, signal: c.stopSignal });
      fs.rmSync(pidFile, { force: true });
      pid = undefined;
    }
  }
  let info = await c.probe(addr);
  if (!info && pid) {
    // started by an earlier `up` that did not see it healthy (interrupted?): give it its deadline
    log(`${c.name}: pid ${pid} from an earlier start is not healthy yet; waiting`);
    info = await pollUntil(() => c.probe(addr), {
      timeoutMs: ctx.healthTimeoutMs ?? c.healthTimeoutMs,
      intervalMs: 250,
    });
    if (!info) {
      log(`${c.name}: pid ${pid} never became healthy; stopping it and starting afresh`);
      await stopProcess(pid, { signal: c.stopSignal });
      fs.rmSync(pidFile, { force: true });
      pid = undefined;
    }
  }
  if (info) {
    if (!pid) fs.rmSync(pidFile, { force: true });
    return {
      name: c.name,
      status: 'up',
      mode: pid ? 'started' : 'reused',
      pid,
      addr,
      info,
      server: pid ? record?.server : undefined,
      dataDir: pid ? record?.dataDir : undefined,
    };
  }

  return start(c, ctx, addr);
}

/** How long a component found on its port is probed before it is taken for something else. */
const TAKEN_PORT_PROBE_MS = 15_000;

/**
 * Before starting a component: when something already answers on one of its ports, the component
 * itself (reused) if it passes the probe within `timeoutMs`, else an error that says what holds the
 * port. Undefined when the ports are free. A healthy server can miss one probe while the machine is
 * busy (the components start together on 2 cores): the machine's RabbitMQ once failed CI that way.
 */
export async function answeringOnItsPorts(c, addr, timeoutMs = TAKEN_PORT_PROBE_MS) {
  for (const { host, port } of c.ports(addr)) {
    if (!(await tcpOpen(host, port, 500))) continue;
    const info = await pollUntil(() => c.probe(addr), { timeoutMs, intervalMs: 500 });
    if (info) return { name: c.name, status: 'up', mode: 'reused', addr, info };
    throw new Error(
      `${host}:${port} is taken by a process that is not a healthy ${c.name} (${c.probeLabel} failed); stop it, or set ${c.portHint ?? `${c.envVars.join(' / ')} to a running ${c.name}`}`,
    );
  }
  return undefined;
}

/** Starts a component whose ports are free and waits until it is healthy, or stops it again. */
async function start(c, ctx, addr) {
  const { p, log } = ctx;
  const pidFile = pidFileOf(p, c);
  const found = await answeringOnItsPorts(c, addr);
  if (found) return found;

  const spec = await c.prepare(addr, ctx);
  const logFile = logFileOf(p, c);
  const child = spawnDetached(spec.command, spec.args, {
    logFile,
    env: spec.env,
    cwd: p.stackDir,
    account: spec.account,
  });
  if (!child.pid) {
    await pollUntil(() => child.exitInfo, { timeoutMs: 2_000, intervalMs: 20 });
    throw new Error(`could not start ${spec.command}: ${child.exitInfo?.error?.message ?? 'unknown error'}`);
  }
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  log(
    `${c.name}: started ${path.basename(spec.command)} (pid ${child.pid}, log ${path.relative(process.cwd(), logFile)})`,
  );

  const healthy = await pollUntil(() => c.probe(addr), {
    timeoutMs: ctx.healthTimeoutMs ?? c.healthTimeoutMs,
    intervalMs: 250,
    shouldAbort: () => {
      const exit = child.exitInfo;
      if (!exit) return undefined;
      return `${path.basename(spec.command)} exited (${exit.error?.message ?? exit.signal ?? `code ${exit.code}`}) before it was healthy; last log lines:\n${indent(tailFile(logFile))}`;
    },
  }).catch(async (err) => {
    fs.rmSync(pidFile, { force: true });
    throw err;
  });
  if (!healthy) {
    await stopProcess(child.pid, { signal: c.stopSignal });
    fs.rmSync(pidFile, { force: true });
    throw new Error(
      `not healthy after ${Math.round((ctx.healthTimeoutMs ?? c.healthTimeoutMs) / 1000)}s (${c.probeLabel}); stopped it; last log lines of ${logFile}:\n${indent(tailFile(logFile))}`,
    );
  }
  return {
    name: c.name,
    status: 'up',
    mode: 'started',
    pid: child.pid,
    addr,
    info: healthy,
    server: spec.server,
    binary: spec.command,
    dataDir: spec.dataDir,
    startedAt: new Date().toISOString(),
  };
}

const indent = (text) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

/** What state.json keeps about a component; a process started by an earlier `up` keeps its details. */
function toRecord(r, previous) {
  const same = r.mode === 'started' && previous?.pid === r.pid;
  return {
    status: r.status,
    mode: r.mode,
    pid: r.pid ?? null,
    where: r.where,
    server: r.server ?? r.info?.server ?? (same ? previous.server : null) ?? null,
    binary: r.binary ?? (same ? previous.binary : null) ?? null,
    dataDir: r.dataDir ?? (same ? previous.dataDir : null) ?? null,
    startedAt: r.startedAt ?? (same ? previous.startedAt : null) ?? null,
  };
}

/** Where a component is, for the table: a skipped one says why. */
function whereOf(c, r, record) {
  if (r.status === 'skipped') return r.info.reason;
  return c.where(r.addr, r.info || undefined, r.dataDir ? { ...record, dataDir: r.dataDir } : record);
}

/** The components asked for (all but the optional ones by default) and those they depend on, in COMPONENTS order. */
function selected(only) {
  if (!only) return COMPONENTS.filter((c) => !c.optional);
  const unknown = only.filter((name) => !COMPONENTS.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`unknown component(s): ${unknown.join(', ')}`);
  const wanted = new Set(only);
  for (const c of [...COMPONENTS].reverse())
    if (wanted.has(c.name)) for (const d of c.dependsOn ?? []) wanted.add(d);
  return COMPONENTS.filter((c) => wanted.has(c.name));
}

function makeContext(options) {
  const p = paths();
  for (const dir of [p.dataDir, p.logsDir, p.pidsDir]) fs.mkdirSync(dir, { recursive: true });
  const quiet = options.quiet ?? false;
  return {
    p,
    root: p.root,
    dataDir: p.dataDir,
    logsDir: p.logsDir,
    env: options.env ?? process.env,
    log: quiet ? () => {} : (msg) => process.stderr.write(`[stack] ${msg}\n`),
    provisionTimeoutMs:
      options.provisionTimeoutMs ?? Number(process.env.OMS_STACK_PROVISION_TIMEOUT_MS || 45 * MINUTE),
    healthTimeoutMs: options.healthTimeoutMs,
    state: readState(p.stateFile),
    ownedPid: (c) => ownedPid(p, c),
    results: {},
  };
}

/**
 * Brings every component up (reusing what answers) and waits until each is healthy; a component
 * waits for those it `dependsOn`. `only: [names]` limits it to those components and their
 * dependencies. Resolves to `{ components, env }` (env: the addresses as the services' env vars);
 * rejects with a StackError naming every component that could not be had.
 */
export async function up(options = {}) {
  const ctx = makeContext(options);
  const wanted = selected(options.only);
  const started = Date.now();
  return whileHoldingDirLock(
    ctx.p.lockDir,
    {
      timeoutMs: ctx.provisionTimeoutMs + 10 * MINUTE,
      onWait: (pid) =>
        ctx.log(
          `another stack command (pid ${pid ?? '?'}) holds ${path.relative(process.cwd(), ctx.p.lockDir)}; waiting for it`,
        ),
    },
    async () => {
      ctx.state = readState(ctx.p.stateFile);
      const running = new Map();
      for (const c of wanted) {
        running.set(
          c.name,
          (async () => {
            for (const d of c.dependsOn ?? []) {
              const dependency = await running.get(d)?.catch(() => undefined);
              if (dependency?.status === 'skipped' || !running.has(d)) continue;
              if (dependency?.status !== 'up') throw new Error(`needs ${d}, which is not up`);
            }
            const result = await ensure(c, ctx);
            ctx.results[c.name] = result;
            return result;
          })(),
        );
      }
      const settled = await Promise.allSettled(wanted.map((c) => running.get(c.name)));
      const components = [];
      const failures = [];
      settled.forEach((s, i) => {
        const c = wanted[i];
        if (s.status === 'fulfilled') {
          const r = { ...s.value, where: whereOf(c, s.value, ctx.state.components[c.name]) };
          components.push(r);
          // state.json describes the stack at the default addresses, not a one-off override
          if (!r.external && r.status !== 'skipped')
            ctx.state.components[c.name] = toRecord(r, ctx.state.components[c.name]);
        } else {
          failures.push({ name: c.name, message: s.reason?.message ?? String(s.reason) });
          components.push({ name: c.name, status: 'down', mode: '-', where: c.where(c.addresses(ctx.env)) });
          if (!c.external(ctx.env) && !ownedPid(ctx.p, c)) delete ctx.state.components[c.name];
        }
      });
      writeState(ctx.p.stateFile, ctx.state);
      if (failures.length > 0) throw new StackError(failures);
      if (!(options.quiet ?? false)) {
        printTable(components);
        process.stdout.write(
          `\nstack up in ${((Date.now() - started) / 1000).toFixed(1)}s; data and logs in ${path.relative(process.cwd(), ctx.p.stackDir) || '.'}\n`,
        );
      }
      return { components: components.map(publicView), env: componentAddresses(ctx.env) };
    },
  );
}

/**
 * The path of a binary provision.sh knows (nomad, helm, kubeconform, ...): the one on PATH, else the
 * versioned build in ~/.cache/oms/bin, built first if it is not there yet.
 */
export function binary(name, options = {}) {
  return resolveBinary(name, makeContext({ quiet: true, ...options }));
}

/**
 * Stops what `up` started (by pid file), dependents before what they depend on; leaves reused
 * components alone. `only: [names]` stops just those and their dependents.
 */
export async function down(options = {}) {
  const ctx = makeContext(options);
  return whileHoldingDirLock(
    ctx.p.lockDir,
    { timeoutMs: 10 * MINUTE, onWait: () => ctx.log('waiting for the stack lock') },
    async () => {
      ctx.state = readState(ctx.p.stateFile);
      const stopping = new Map();
      const stop = (c) => {
        if (!stopping.has(c.name)) {
          stopping.set(
            c.name,
            (async () => {
              // FerretDB before its PostgreSQL: first whatever depends on this component
              await Promise.all(
                COMPONENTS.filter((other) => other.dependsOn?.includes(c.name)).map((other) => stop(other)),
              );
              const pidFile = pidFileOf(ctx.p, c);
              const pid = ownedPid(ctx.p, c);
              fs.rmSync(pidFile, { force: true }); // a pid file whose process is gone (or is someone else now) is just stale
              delete ctx.state.components[c.name];
              if (!pid) return { name: c.name, action: 'left alone (not started by the stack)' };
              const how = await stopProcess(pid, { graceMs: 20_000, signal: c.stopSignal });
              await c.afterStop?.(ctx); // what it leaves behind (Nomad: its tasks and mounts)
              return {
                name: c.name,
                pid,
                action:
                  how === 'killed'
                    ? `killed pid ${pid} (did not stop on ${c.stopSignal ?? 'SIGTERM'})`
                    : `stopped pid ${pid}`,
              };
            })(),
          );
        }
        return stopping.get(c.name);
      };
      // `only`: those components (and whatever depends on them), e.g. the optional Nomad agent
      const targets = options.only ? COMPONENTS.filter((c) => options.only.includes(c.name)) : COMPONENTS;
      const results = await Promise.all(targets.map(stop));
      writeState(ctx.p.stateFile, ctx.state);
      if (!(options.quiet ?? false))
        for (const r of results) process.stdout.write(`${r.name.padEnd(12)} ${r.action}\n`);
      return results;
    },
  );
}

/** Probes every component, or those in `only` (no lock, nothing started or stopped); an optional one only when named. */
export async function status(options = {}) {
  const ctx = makeContext(options);
  const components = await Promise.all(
    selected(options.only).map(async (c) => {
      const addr = c.addresses(ctx.env);
      const pid = c.external(ctx.env) ? undefined : ownedPid(ctx.p, c); // an override is never ours
      const record = ctx.state.components[c.name];
      const skip = pid ? undefined : await notNeeded(c, ctx);
      if (skip) {
        return {
          name: c.name,
          status: 'skipped',
          mode: '-',
          pid: undefined,
          info: { reason: skip },
          where: skip,
        };
      }
      const info = await c.probe(addr);
      const r = {
        name: c.name,
        status: info ? 'up' : 'down',
        mode: pid ? 'started' : info ? 'reused' : '-',
        pid,
        server: pid ? record?.server : undefined,
        addr,
        info,
      };
      return { ...r, where: whereOf(c, r, record) };
    }),
  );
  if (!(options.quiet ?? false)) printTable(components);
  return { components: components.map(publicView), env: componentAddresses(ctx.env) };
}

function publicView(r) {
  return {
    name: r.name,
    status: r.status,
    mode: r.mode,
    pid: r.pid ?? null,
    where: r.where,
    server: r.server ?? r.info?.server ?? null,
  };
}

function printTable(rows) {
  const cells = rows.map((r) => [r.name, r.status, r.mode, r.pid ? String(r.pid) : '-', r.where]);
  const header = ['component', 'status', 'mode', 'pid', 'where'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  process.stdout.write(`${[line(header), ...cells.map(line)].join('\n')}\n`);
}
