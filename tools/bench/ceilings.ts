// The two ceilings, each in its own process: a bare Fastify handler and a bare grpc-js echo.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface Ceiling {
  child: ChildProcess;
  info: Record<string, string>;
  stop(): void;
}

export async function startCeiling(script: 'ceiling-http.mjs' | 'ceiling-grpc.mjs'): Promise<Ceiling> {
  const child = spawn(process.execPath, [resolve(__dirname, script)], {
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
