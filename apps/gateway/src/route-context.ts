import type { ServiceName } from '@oms/service-kit';
import type { Backends } from './backends';
import type { IdempotencyGuard } from './idempotency';

/** What readiness needs to know: the instances discovery sees, and whether shutdown began. */
export interface Readiness {
  knownInstances(service: ServiceName): number | undefined;
  isShuttingDown(): boolean;
}

/** What the route modules receive (its own module, so routes never import app.ts). */
export interface RouteContext {
  backends: Backends;
  idempotency: IdempotencyGuard;
  authenticateAdmin: (authorization: string | undefined) => void;
  readiness: Readiness;
}
