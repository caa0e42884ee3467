// CPU time per process group between two readings, the way ../shared/measure/cpu-per-request.mjs
// measures it: utime+stime from /proc/<pid>/stat before and after, in clock ticks.
import { CLOCK_TICKS, machineBusyTicks, processTree, readProcesses } from './proc';
import type { ProcessGroup } from './processes';

export interface CpuReading {
  atMs: number;
  ticks: Record<string, number>;
  /** The bench process itself (the load generator), from process.cpuUsage(), in µs. */
  selfMicros: number;
  machineTicks: number;
}

export interface CpuUsage {
  seconds: number;
  /** CPU ms per group label. */
  ms: Record<string, number>;
  loadGeneratorMs: number;
  /** Busy CPU of the machine outside the groups and the load generator (other work sharing it). */
  otherMs: number;
}

export class CpuMeter {
  constructor(readonly groups: ProcessGroup[]) {}

  read(): CpuReading {
    const processes = readProcesses();
    const ticks: Record<string, number> = {};
    for (const group of this.groups) {
      const pids = group.tree ? processTree(processes, group.pid) : [group.pid];
      ticks[group.label] = pids.reduce((sum, pid) => sum + (processes.get(pid)?.ticks ?? 0), 0);
    }
    const self = process.cpuUsage();
    return {
      atMs: performance.now(),
      ticks,
      selfMicros: self.user + self.system,
      machineTicks: machineBusyTicks(),
    };
  }

  /** Runs `work` between two readings. */
  async measure<T>(work: () => Promise<T>): Promise<{ result: T; usage: CpuUsage }> {
    const before = this.read();
    const result = await work();
    return { result, usage: usageBetween(before, this.read()) };
  }
}

export function usageBetween(before: CpuReading, after: CpuReading): CpuUsage {
  const toMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS;
  const ms: Record<string, number> = {};
  let groupsMs = 0;
  for (const [label, ticks] of Object.entries(after.ticks)) {
    // A process that restarted in between has fewer ticks than before: count what we can see.
    const delta = Math.max(0, ticks - (before.ticks[label] ?? 0));
    ms[label] = toMs(delta);
    groupsMs += ms[label]!;
  }
  const loadGeneratorMs = (after.selfMicros - before.selfMicros) / 1000;
  return {
    seconds: (after.atMs - before.atMs) / 1000,
    ms,
    loadGeneratorMs,
    otherMs: Math.max(0, toMs(after.machineTicks - before.machineTicks) - groupsMs - loadGeneratorMs),
  };
}

/** CPU ms per completed request (or order) for every group, plus their total. */
export function msPer(usage: CpuUsage, count: number): Record<string, number> {
  // Nothing completed: no figure (NaN), rather than all the CPU charged to a request that failed.
  const per: Record<string, number> = {};
  let total = 0;
  for (const [label, ms] of Object.entries(usage.ms)) {
    per[label] = ms / count;
    total += per[label]!;
  }
  per['total (system)'] = total;
  per['load generator'] = usage.loadGeneratorMs / count;
  per['other processes'] = usage.otherMs / count;
  return count > 0 ? per : Object.fromEntries(Object.keys(per).map((k) => [k, NaN]));
}

/** Share of one core per group, e.g. 0.54 = 54 % of a core. */
export function coreShare(usage: CpuUsage): Record<string, number> {
  return Object.fromEntries(
    Object.entries(usage.ms).map(([label, ms]) => [label, ms / 1000 / Math.max(usage.seconds, 1e-9)]),
  );
}
