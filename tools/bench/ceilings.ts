// The ceilings, each in its own process: a bare Fastify handler, a bare grpc-js echo, and the two
// processes of get-order through the same libraries with nothing of ours (ceiling-get-order.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVICE_NODE_FLAGS } from '@oms/testing';

export interface Ceiling {
  child: ChildProcess;
  info: Record<string, string>;
  stop(): void;
}

type CeilingScript = 'ceiling-http.mjs' | 'ceiling-grpc.mjs' | 'ceiling-get-order.ts';

/**
 * Starts a ceiling and resolves with the line it prints once it listens. The get-order pipeline
 * runs with the services' V8 flags (and tsx, for the generated contracts), since it stands in for
 * two of them.
 */
export async function startCeiling(script: CeilingScript, args: string[] = []): Promise<Ceiling> {
  const flags = script.endsWith('.ts') ? [...SERVICE_NODE_FLAGS, '--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...flags, resolve(__dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`${script} exited with ${code} before it listened`)));
    createInterface({ input: child.stdout! }).once('line', done);
  });
  return {
    child,
    info: JSON.parse(line) as Record<string, string>,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}
