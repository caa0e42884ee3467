import { Type, type Static, type TObject } from '@sinclair/typebox';
import { BaseServiceConfig, ConfigError, loadConfig, refuseLocalDefaultsInProduction } from '@oms/config';
import { SERVICE_PORTS, type ServiceName } from './service-names';

/** What the service listens with: gRPC services bind GRPC_HOST:GRPC_PORT, the gateway GATEWAY_*. */
export type ListenerKind = 'grpc' | 'http';

export type ServiceConfig<S extends TObject> = Static<typeof BaseServiceConfig> &
  Static<S> & { PORT: number };

const LISTENER_VARIABLES = {
  grpc: { port: 'GRPC_PORT', host: 'GRPC_HOST' },
  http: { port: 'GATEWAY_PORT', host: 'GATEWAY_HOST' },
} as const;

const EmptyConfig = Type.Object({});

/**
 * Reads the shared variables, the service's own and its listener's from the environment. A bad
 * value, or a local default secret in production, ends the process with one line naming every
 * offending variable and exit code 78 (EX_CONFIG), so a supervisor does not restart it in a loop.
 */
export function loadServiceConfig<S extends TObject>(
  name: ServiceName,
  listener: ListenerKind,
  spec: { config?: S; localSecrets?: Record<string, string> },
): { config: ServiceConfig<S>; bindHost: string } {
  const variables = LISTENER_VARIABLES[listener];
  const schema = Type.Composite([
    BaseServiceConfig,
    spec.config ?? EmptyConfig,
    Type.Object({
      [variables.port]: Type.Integer({ minimum: 0, maximum: 65535, default: SERVICE_PORTS[name] }),
      [variables.host]: Type.String({ minLength: 1, default: '127.0.0.1' }),
    }),
  ]);
  try {
    const raw = loadConfig(schema) as Record<string, unknown>;
    refuseLocalDefaultsInProduction(raw as { NODE_ENV: string }, spec.localSecrets ?? {});
    const config = { ...raw, PORT: raw[variables.port] } as ServiceConfig<S>;
    return { config, bindHost: raw[variables.host] as string };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(78);
  }
}
