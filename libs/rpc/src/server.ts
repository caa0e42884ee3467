import {
  status,
  type Deadline,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '@oms/logging';
import { runWithInboundCall } from './call-context';
import { DomainError } from '@oms/domain';
import { fromDomainError, RpcError } from './rpc-error';
import { startServerSpan } from './tracing';

type RequestOf<M> = M extends { requestDeserialize: (b: Buffer) => infer Req } ? Req : never;
type ResponseOf<M> = M extends { responseSerialize: (v: infer Res) => Buffer } ? Res : never;

/** What a service implements: one async function per RPC, typed from the generated definition. */
export type UnaryHandlers<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>) => Promise<ResponseOf<D[K]>>;
};

function toDate(deadline: Deadline): Date | undefined {
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

/** Admission control of one method: a release per admitted call, undefined when at capacity. */
export interface Admission {
  tryAcquire(): ((outcome?: 'ok' | 'dropped') => void) | undefined;
}

export interface UnaryServiceOptions {
  /** Called once per call with its outcome (metrics). */
  observe?: (method: string, code: string, seconds: number) => void;
  /** One admission per method (see @oms/resilience AdaptiveConcurrencyLimit); none admits all. */
  admission?: (method: string) => Admission;
  /** Called for each call refused at capacity (metrics). */
  onRefused?: (method: string) => void;
  /**
   * Errors that mean a dependency is away (the database unreachable): answered UNAVAILABLE with
   * a retry-after, so that callers retry later, instead of INTERNAL.
   */
  unavailableWhen?: (error: unknown) => boolean;
}

/** A call is refused before any work: the caller may retry it elsewhere or later. */
const atCapacity = (service: string) =>
  new RpcError(status.UNAVAILABLE, 'overloaded', `${service} is at capacity; retry later`, [], 1).toStatus();

const dependencyAway = (service: string) =>
  new RpcError(
    status.UNAVAILABLE,
    'dependency_unavailable',
    `${service} cannot reach its database; retry later`,
    [],
    1,
  );

/**
 * Adapts async handlers to grpc-js: a call beyond the method's admission limit is refused at once
 * (UNAVAILABLE, reason `overloaded`, retry after 1 s), the inbound deadline becomes the budget of
 * outgoing calls, RpcErrors keep their status and reason, a dependency that is away (see
 * `unavailableWhen`) becomes UNAVAILABLE, anything else is logged and becomes a bare INTERNAL.
 */
export function unaryService<D extends ServiceDefinition>(
  definition: D,
  handlers: UnaryHandlers<D>,
  logger: Logger,
  { observe, admission, onRefused, unavailableWhen }: UnaryServiceOptions = {},
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const name of Object.keys(definition) as (keyof D & string)[]) {
    const handler = handlers[name];
    const admit = admission?.(name);
    const path = definition[name]?.path ?? `/service/${name}`;
    const service = path.split('/')[1] ?? 'service';
    const method: handleUnaryCall<unknown, unknown> = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const release = admit ? admit.tryAcquire() : () => undefined;
      if (!release) {
        onRefused?.(name);
        return callback(atCapacity(service));
      }
      const started = process.hrtime.bigint();
      const span = startServerSpan(path, call.metadata);
      const done = (code: status, error?: unknown) => {
        release(code === status.DEADLINE_EXCEEDED ? 'dropped' : 'ok');
        observe?.(name, status[code] ?? String(code), Number(process.hrtime.bigint() - started) / 1e9);
        span.end(code, error);
      };
      span.run(() =>
        runWithInboundCall({ deadline: toDate(call.getDeadline()) }, () => {
          (handler as (request: unknown) => Promise<unknown>)(call.request).then(
            (response) => {
              done(status.OK);
              callback(null, response);
            },
            (error: unknown) => {
              if (error instanceof DomainError) error = fromDomainError(error);
              if (unavailableWhen?.(error)) {
                logger.warn({ err: error, rpc: path }, 'a dependency is unavailable');
                error = dependencyAway(service);
              }
              if (error instanceof RpcError) {
                done(error.code);
                return callback(error.toStatus());
              }
              logger.error({ err: error, rpc: path }, 'unhandled error in RPC handler');
              done(status.INTERNAL, error);
              callback({ code: status.INTERNAL, details: 'internal error' });
            },
          );
        }),
      );
    };
    implementation[name] = method;
  }
  return implementation;
}
