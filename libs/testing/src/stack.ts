import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '../../..');

/** A component of the local stack (tools/stack/lib/components.mjs). */
export type StackComponent = 'consul' | 'rabbitmq' | 'postgres' | 'mongo' | 'jaeger' | 'stripe-mock';

interface StackModule {
  up(options: { quiet: boolean; only?: StackComponent[] }): Promise<unknown>;
  componentAddresses(env?: NodeJS.ProcessEnv): Record<string, string>;
}

async function stackModule(): Promise<StackModule> {
  return (await import(pathToFileURL(resolve(ROOT, 'tools/stack/stack.mjs')).href)) as StackModule;
}

/**
 * Brings up (or reuses) the real local stack, so `nx affected -t test` works on its own too.
 * `only` limits it to some components (and what they depend on), e.g. `['mongo']`; a component
 * whose address variable (MONGO_URL, ...) points elsewhere is only checked, never started.
 */
export async function ensureStack(options: { only?: StackComponent[] } = {}): Promise<void> {
  await (await stackModule()).up({ quiet: true, ...options });
}

export async function stackAddresses(): Promise<Record<string, string>> {
  return (await stackModule()).componentAddresses();
}
