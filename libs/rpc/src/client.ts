import {
  credentials,
  makeGenericClientConstructor,
  type Metadata,
  status,
  type CallOptions,
  type Client,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { context } from '@opentelemetry/api';
import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import type { TargetPolicy } from '@oms/resilience';
import { inboundDeadline } from './call-context';
import { outgoingMetadata } from './tracing';
import { isServiceError, RpcError } from './rpc-error';

type RequestOf<M> = M extends { requestSerialize: (v: infer Req) => Buffer } ? Req : never;
type ResponseOf<M> = M extends { responseDeserialize: (b: Buffer) => infer Res } ? Res : never;

/** A promise-returning method per RPC, typed from the generated service definition. */
export type RpcClient<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>, options?: { timeoutMs?: number }) => Promise<ResponseOf<D[K]>>;
} & { close(): void };

export interface RpcClientOptions<D> {
  /** The service's Consul name (breaker, bulkhead and error messages are per target). */
  service: string;
  /** `consul:///<service>` in the system; a plain host:port in tests. */
  target: string;
  policy: TargetPolicy;
  defaultTimeoutMs: number;
  /** Methods safe to repeat: only these are retried. */
  idempotent: readonly (keyof D)[];
  timeoutsMs?: Partial<Record<keyof D, number>>;
  /**
   * False when discovery knows the target has no healthy instance: the call then fails at once
   * with UNAVAILABLE instead of waiting for its deadline.
   */
  hasInstances?: () => boolean;
}

type UnaryInvoker = (
  request: unknown,
  metadata: Metadata,
  options: CallOptions,
  callback: (error: ServiceError | null, response: unknown) => void,
) => { cancel(): void };

function deadlineFor(timeoutMs: number): Date {
  const own = Date.now() + timeoutMs;
  const inherited = inboundDeadline()?.getTime();
  return new Date(inherited !== undefined ? Math.min(own, inherited) : own);
}

/**
 * One long-lived channel per target, balanced round-robin over every resolved instance; every
 * call passes through the target's policy (bulkhead, retry, breaker) with a propagated deadline.
 */
export function createRpcClient<D extends ServiceDefinition>(
  definition: D,
  options: RpcClientOptions<D>,
): RpcClient<D> {
  const Constructor = makeGenericClientConstructor(definition, options.service);
  const channel: Client = new Constructor(options.target, credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.enable_retries': 0,
  });
  const idempotent = new Set<keyof D>(options.idempotent);
  const client = { close: () => channel.close() } as RpcClient<D>;

  for (const name of Object.keys(definition) as (keyof D & string)[]) {
    const invoke = (channel as unknown as Record<string, UnaryInvoker>)[name]!.bind(channel);
    const method = async (request: unknown, callOptions?: { timeoutMs?: number }) => {
      const deadline = deadlineFor(
        callOptions?.timeoutMs ?? options.timeoutsMs?.[name] ?? options.defaultTimeoutMs,
      );
      // The caller's trace context, as it is now: retries and the policy's own promises carry the same.
      const caller = context.active();
      try {
        if (options.hasInstances && !options.hasInstances()) {
          throw new RpcError(
            status.UNAVAILABLE,
            'unavailable',
            `no healthy instance of ${options.service}`,
            [],
            1,
          );
        }
        return await options.policy.execute(
          () =>
            new Promise((resolve, reject) => {
              invoke(request, outgoingMetadata(caller), { deadline }, (error, response) => {
                if (error) reject(error);
                else resolve(response);
              });
            }),
          { idempotent: idempotent.has(name) },
        );
      } catch (error) {
        throw toRpcError(error, options.service, options.policy);
      }
    };
    (client as Record<string, unknown>)[name] = method;
  }
  return client;
}

function toRpcError(error: unknown, service: string, policy: TargetPolicy): RpcError {
  const retryAfter = Math.max(1, Math.ceil(policy.halfOpenAfterMs / 1000));
  if (error instanceof BrokenCircuitError) {
    return new RpcError(
      status.UNAVAILABLE,
      'unavailable',
      `${service} is unavailable (circuit open)`,
      [],
      retryAfter,
    );
  }
  if (error instanceof BulkheadRejectedError) {
    return new RpcError(status.UNAVAILABLE, 'unavailable', `${service} is saturated`, [], 1);
  }
  if (isServiceError(error)) {
    const rpcError = RpcError.fromServiceError(error);
    if (rpcError.code === status.UNAVAILABLE) {
      return new RpcError(
        rpcError.code,
        rpcError.reason,
        rpcError.message || `${service} is unavailable`,
        rpcError.details,
        rpcError.retryAfterSeconds ?? 1,
      );
    }
    return rpcError;
  }
  if (error instanceof RpcError) return error;
  return new RpcError(status.INTERNAL, 'internal', `call to ${service} failed`);
}
