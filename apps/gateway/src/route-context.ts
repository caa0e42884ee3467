import type { ServiceName } from '@oms/service-kit';
import type { Backends } from './backends';
import type { IdempotencyGuard } from './idempotency';
import type { ConsoleContext } from './console/console-context';

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
  /** The operations console's parts; without them (unit tests of the API) /console is not served. */
  console?: ConsoleContext;
}
