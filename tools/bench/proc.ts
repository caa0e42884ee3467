// Reading processes from /proc (Linux): CPU time, parents, command lines, listening sockets.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of the utime/stime fields (USER_HZ; 100 on every Linux we know). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcessStat {
  pid: number;
  ppid: number;
  comm: string;
  /**
   * utime + stime + cutime + cstime, in clock ticks. Counting the children that were waited for
   * keeps a process tree's total steady when a child exits between two readings (PostgreSQL
   * backends do): the child's time moves into its parent's cutime/cstime.
   */
  ticks: number;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseStat(text: string): ProcessStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const at = (field: number) => Number(fields[field - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    ppid: at(4),
    comm: text.slice(open + 1, close),
    ticks: at(14) + at(15) + at(16) + at(17),
  };
}

/** Every process on the machine right now. Processes that exit while being read are skipped. */
export function readProcesses(): Map<number, ProcessStat> {
  const all = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      all.set(stat.pid, stat);
    } catch {
      // gone already
    }
  }
  return all;
}

/** `root` and every process below it. */
export function processTree(processes: Map<number, ProcessStat>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const tree: number[] = [];
  const queue = processes.has(root) ? [root] : [];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Busy clock ticks of the whole machine (all CPUs) from /proc/stat: everything but idle and iowait. */
export function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + (steal ?? 0);
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function processName(pid: number): string | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).comm;
  } catch {
    return undefined;
  }
}

export function residentMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** Socket inodes listening on a TCP port (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number, tables = ['/proc/net/tcp', '/proc/net/tcp6']): Set<string> {
  const inodes = new Set<string>();
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const localPort = parseInt(cols[1]!.split(':')[1]!, 16);
      if (localPort === port && cols[9] !== '0') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/**
 * The process that listens on a TCP port: of the processes holding the listening socket, the one
 * highest in the tree (a forking server's children may inherit the socket). Undefined when
 * nothing listens or the socket belongs to a process we may not inspect.
 */
export function listeningPid(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const holders = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) {
          holders.add(Number(entry));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  if (holders.size === 0) return undefined;
  const processes = readProcesses();
  return [...holders].find((pid) => !holders.has(processes.get(pid)?.ppid ?? -1)) ?? [...holders][0];
}
