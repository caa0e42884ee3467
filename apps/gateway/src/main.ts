import { telemetry } from './instrument';
import type { AddressInfo } from 'node:net';
import { runService } from '@oms/service-kit';
import { buildApp } from './app';
import { connectBackends } from './backends';
import { GATEWAY_LOCAL_SECRETS, GatewayConfig } from './config';
import { startIdempotencyCleanup } from './idempotency';
import { MongoIdempotencyStore } from './idempotency-store';

void runService({
  name: 'gateway',
  telemetry,
  config: GatewayConfig,
  localSecrets: GATEWAY_LOCAL_SECRETS,
  async setup(context) {
    const { config, logger } = context;
    const idempotencyStore = await MongoIdempotencyStore.open(await context.database());
    const app = await buildApp({
      logger,
      backends: connectBackends(context),
      idempotencyStore,
      idempotency: { ttlMs: config.IDEMPOTENCY_TTL_HOURS * 3_600_000 },
      adminToken: config.ADMIN_TOKEN,
      observeHttp: (route, method, statusCode, seconds) =>
        context.metrics.observeHttp(route, method, statusCode, seconds),
      readiness: { knownInstances: context.knownInstances, isShuttingDown: context.isShuttingDown },
    });
    const stopCleanup = startIdempotencyCleanup(idempotencyStore, logger);
    return {
      http: {
        listen: async (host, port) => {
          await app.listen({ host, port });
          return (app.server.address() as AddressInfo).port;
        },
        // Fastify stops accepting connections and finishes the requests in flight.
        close: () => app.close(),
      },
      onDrain: async () => stopCleanup(),
    };
  },
});
