import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Raises the calling thread's scheduling priority to `nice`: a load generator on the machine it
 * loads must get the CPU it needs before the system does, or it measures its own waiting (Linux
 * schedules threads one by one, and /proc/thread-self names this one's id). Threads and processes
 * started later from other threads keep the normal priority. Where that is not allowed (not root),
 * the reason is returned and the caller goes on at the default priority.
 */
export function raiseThreadPriority(nice: number): number | string {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, nice);
    return nice;
  } catch (error) {
    return `default (${error instanceof Error ? error.message : String(error)})`;
  }
}
