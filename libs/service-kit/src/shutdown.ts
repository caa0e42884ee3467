import type { Logger } from '@oms/logging';

export interface ShutdownStep {
  name: string;
  run(): Promise<void> | void;
  /** A step that takes longer is abandoned so the next ones still run. */
  timeoutMs?: number;
}

/**
 * Runs the steps one after another. A step that fails or overruns is logged and skipped: closing
 * the database must still happen when deregistering from Consul failed.
 */
export async function shutdownInOrder(steps: ShutdownStep[], logger: Logger): Promise<{ failed: string[] }> {
  const failed: string[] = [];
  for (const step of steps) {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => step.run()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${step.timeoutMs} ms`)),
            step.timeoutMs ?? 10_000,
          );
        }),
      ]);
      logger.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
    } catch (error) {
      failed.push(step.name);
      logger.warn({ step: step.name, err: error }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return { failed };
}
