import { randomUUID } from 'node:crypto';

/** What services tell each other through RabbitMQ: the message body, as JSON. */
export interface DomainEvent<T = unknown> {
  /** Unique event id (uuid); consumers deduplicate on it. */
  id: string;
  /** e.g. 'order.created', 'order.paid'; also the routing key. */
  type: string;
  /** Schema version of `data`, starting at 1. */
  version: number;
  /** ISO-8601. */
  occurredAt: string;
  data: T;
}

export function newEvent<T>(type: string, data: T, version = 1): DomainEvent<T> {
  return { id: randomUUID(), type, version, occurredAt: new Date().toISOString(), data };
}

/** Thrown by a handler when retrying cannot help (invalid data, impossible state): the message goes straight to the dead letters. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** A message body that is not a DomainEvent; no retry can fix it. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

/** Event types become routing keys and queue names, so topic wildcards and separators other than '.' are refused. */
const EVENT_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function assertEventType(type: string): void {
  if (!EVENT_TYPE.test(type))
    throw new Error(`invalid event type ${JSON.stringify(type)}: use dot-separated words, no wildcards`);
}

export function encodeEvent(event: DomainEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export function decodeEvent(content: Buffer): DomainEvent {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    throw new MalformedEventError('message body is not JSON');
  }
  const candidate = body as Partial<DomainEvent> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.id !== 'string' ||
    candidate.id === '' ||
    typeof candidate.type !== 'string' ||
    typeof candidate.version !== 'number' ||
    typeof candidate.occurredAt !== 'string' ||
    !('data' in candidate)
  ) {
    throw new MalformedEventError('message body is not a DomainEvent (id, type, version, occurredAt, data)');
  }
  return candidate as DomainEvent;
}
