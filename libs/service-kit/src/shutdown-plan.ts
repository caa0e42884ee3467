import type { BaseServiceConfigType } from '@oms/config';
import type { Logger } from '@oms/logging';
import { shutdownInOrder, type ShutdownStep } from './shutdown';

/** What the shutdown plan stops, in the order it stops them. */
export interface Stoppable {
  config: BaseServiceConfigType;
  logger: Logger;
  /** Flags the context (isShuttingDown) and the health service. */
  markDraining(): void;
  deregister(): Promise<void>;
  /** The service's background loops. */
  stopLoops(): Promise<void>;
  /** The service's own drain (ServiceParts.onDrain). */
  drainService(): Promise<void>;
  stopEvents(): Promise<void>;
  /** Finishes the requests or calls in flight. */
  closeListener(): Promise<void>;
  /** The service's own resources (ServiceParts.onClose). */
  closeService(): Promise<void>;
  closeConnections(): Promise<void>;
  flushTelemetry(): Promise<void>;
}

/**
 * The order of a graceful stop: leave the registry first, so no new work arrives, then stop the
 * work that starts by itself (loops, consumers), then finish what is in flight, and close the
 * connections last, because in-flight work still needs them.
 */
export function shutdownPlan(s: Stoppable): ShutdownStep[] {
  const { SHUTDOWN_GRACE_MS: graceMs, SHUTDOWN_DRAIN_MS: drainMs } = s.config;
  return [
    { name: 'report NOT_SERVING', run: () => s.markDraining() },
    { name: 'deregister from Consul', run: () => s.deregister(), timeoutMs: 2000 },
    {
      // Clients learn of the deregistration through their blocking queries within milliseconds;
      // until then they may still pick this instance, so keep accepting briefly.
      name: 'let clients see the deregistration',
      run: () => new Promise<void>((resolve) => setTimeout(resolve, graceMs)),
      timeoutMs: graceMs + 1000,
    },
    {
      name: 'stop background work',
      run: async () => {
        await s.stopLoops();
        await s.drainService();
      },
      timeoutMs: drainMs,
    },
    { name: 'stop consuming and relaying events', run: () => s.stopEvents(), timeoutMs: drainMs },
    { name: 'finish in-flight calls', run: () => s.closeListener(), timeoutMs: drainMs + 1000 },
    { name: 'close service resources', run: () => s.closeService(), timeoutMs: 5000 },
    { name: 'close connections', run: () => s.closeConnections(), timeoutMs: 5000 },
    { name: 'flush telemetry', run: () => s.flushTelemetry(), timeoutMs: 3000 },
  ];
}

/** Runs the plan once on SIGTERM or SIGINT, then exits. */
export function stopOnSignals(steps: ShutdownStep[], logger: Logger): void {
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      const { failed } = await shutdownInOrder(steps, logger);
      logger.info({ failed }, 'stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
