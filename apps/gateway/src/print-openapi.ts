// Prints the gateway's OpenAPI document (what GET /openapi.json serves, the console's endpoints and
// its development-only actions included) without a backend, a broker or a port:
//   node --import tsx apps/gateway/src/print-openapi.ts
// The console generates its API types from it (apps/console/scripts/api-types.mjs).
import { pino } from 'pino';
import { buildApp } from './app';
import type { Backends } from './backends';
import type { IdempotencyStore } from './idempotency-store';
import { OrderBoard } from './console/order-board';
import { streamPasses } from './console/stream-pass';

/** Only the routes' schemas are read: any call into a dependency is a mistake of this script. */
const unreachable = <T extends object>(name: string) =>
  new Proxy({} as T, {
    get: (_target, property) => {
      throw new Error(`print-openapi: ${name}.${String(property)} used while printing the document`);
    },
  });

async function main(): Promise<void> {
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    backends: unreachable<Backends>('backends'),
    idempotencyStore: unreachable<IdempotencyStore>('idempotencyStore'),
    idempotency: { ttlMs: 1 },
    adminToken: 'print-openapi',
    readiness: { knownInstances: () => undefined, isShuttingDown: () => false },
    console: {
      board: new OrderBoard({ readOrder: async () => undefined }),
      passes: streamPasses('print-openapi', 1),
      services: async () => [],
      jaeger: { queryUrl: 'http://127.0.0.1:16686', uiUrl: async () => null },
      development: true,
      webhookSecret: 'print-openapi',
      bundleDir: undefined,
    },
  });
  process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
  await app.close();
}

void main();
