// The machine a run happened on.
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
}

function cpuModel(): string {
  const fromOs = cpus()[0]?.model?.trim();
  if (fromOs) return fromOs;
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

export function describeMachine(): Machine {
  return {
    cores: cpus().length,
    model: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: `Linux ${release()}`,
  };
}

export const machineLine = (m: Machine) =>
  `${m.cores} cores (${m.model}), ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.kernel}`;
