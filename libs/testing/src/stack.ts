import type { StackComponent } from '@oms/local-stack';

export type { StackComponent };

/** The local stack is ES modules, which the CommonJS that tsx makes of this lib can only import(). */
const localStack = () => import('@oms/local-stack');

/**
 * Brings up (or reuses) the real local stack, so `nx affected -t test` works on its own too.
 * `only` limits it to some components (and what they depend on), e.g. `['mongo']`; a component
 * whose address variable (MONGO_URL, ...) points elsewhere is only checked, never started.
 */
export async function ensureStack(options: { only?: StackComponent[] } = {}): Promise<void> {
  await (await localStack()).up({ quiet: true, ...options });
}

export async function stackAddresses(): Promise<Record<string, string>> {
  return (await localStack()).componentAddresses();
}
