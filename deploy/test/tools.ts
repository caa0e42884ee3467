import { spawnSync } from 'node:child_process';

/** The local stack is ES modules, which the CommonJS that tsx makes of this file can only import(). */
export async function toolBinary(name: 'helm' | 'kubeconform' | 'nomad'): Promise<string> {
  const { binary } = await import('@oms/local-stack');
  // a first build from the Go module proxy takes minutes (Nomad about 7 on 2 cores)
  return binary(name, { provisionTimeoutMs: 20 * 60_000 });
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; its output is returned, never printed. */
export function runCommand(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): CommandResult {
  const result = spawnSync(command, args, {
    input: options.input,
    env: options.env ?? process.env,
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
