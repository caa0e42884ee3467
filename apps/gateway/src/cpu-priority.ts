import { setPriority } from 'node:os';
import type { Logger } from '@oms/logging';

/**
 * Gives the gateway's event loop the CPU before the services behind it. On a host they share
 * (every one of ours: `npm start`, the tests, a single Nomad client), the machine is saturated
 * exactly when admission control matters, and a refusal waited for the gateway's turn on a core:
 * at 300 clients of create-order its p99 was 657 ms at the default priority, 32 ms at nice -10,
 * and no fewer orders got through (`npm run bench -- --only=sustained`, one run each). On Linux
 * the priority is the calling thread's, here the event loop's. Going below 0 needs CAP_SYS_NICE
 * (root); without it the gateway runs at the default priority and says so.
 */
export function raiseEventLoopPriority(nice: number, logger: Pick<Logger, 'info' | 'warn'>): void {
  try {
    setPriority(nice);
    logger.info({ nice }, 'event loop scheduling priority set');
  } catch (error) {
    logger.warn(
      { err: error, nice },
      'could not raise the event loop priority (needs CAP_SYS_NICE); refusals under overload may be slow',
    );
  }
}
