import { AsyncLocalStorage } from 'node:async_hooks';

interface InboundCall {
  /** The deadline the caller gave us; outgoing calls never outlive it. */
  deadline?: Date;
}

const inbound = new AsyncLocalStorage<InboundCall>();

export function runWithInboundCall<T>(call: InboundCall, fn: () => T): T {
  return inbound.run(call, fn);
}

/** The deadline of the request being served, if any (propagated to every outgoing call). */
export function inboundDeadline(): Date | undefined {
  return inbound.getStore()?.deadline;
}
