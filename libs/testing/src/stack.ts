import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '../../..');

interface StackModule {
  up(options: { quiet: boolean }): Promise<unknown>;
  componentAddresses(env?: NodeJS.ProcessEnv): Record<string, string>;
}

async function stackModule(): Promise<StackModule> {
  return (await import(pathToFileURL(resolve(ROOT, 'tools/stack/stack.mjs')).href)) as StackModule;
}

/** Brings up (or reuses) the real local stack, so `nx affected -t test` works on its own too. */
export async function ensureStack(): Promise<void> {
  await (await stackModule()).up({ quiet: true });
}

export async function stackAddresses(): Promise<Record<string, string>> {
  return (await stackModule()).componentAddresses();
}
