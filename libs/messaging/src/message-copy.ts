import type { Message, Options } from 'amqplib';
import type { MessageHeaders } from './tracing';

/**
 * How a message is copied to another queue (a retry tier, the dead letters, back to work on replay):
 * same body, same properties, same headers — trace context included, so a retry continues the
 * publisher's trace — plus our bookkeeping headers.
 */

/** Failed attempts so far. Absent on a first delivery. */
export const ATTEMPTS_HEADER = 'x-oms-attempts';
/** The last failure's message, truncated. */
export const LAST_ERROR_HEADER = 'x-oms-last-error';
/** When the first failed attempt happened (epoch ms): how long a dependency has been away. */
export const FIRST_FAILURE_HEADER = 'x-oms-first-failure-at';

const MAX_ERROR_LENGTH = 500;

/** The broker appends these on every expiry; they would only grow with each retry. */
const BROKER_BOOKKEEPING = /^x-(death|first-death-|last-death-)/;

export function failedAttempts(headers: MessageHeaders | undefined): number {
  const value = Number(headers?.[ATTEMPTS_HEADER] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export function lastError(headers: MessageHeaders | undefined): string {
  const value = headers?.[LAST_ERROR_HEADER];
  if (typeof value === 'string') return value;
  return Buffer.isBuffer(value) ? value.toString('utf8') : '';
}

/** Options that republish `message` as it was, with `changes` applied to its headers (undefined removes one). */
export function copyOptions(
  message: Message,
  changes: Record<string, string | number | undefined>,
): Options.Publish {
  const headers: MessageHeaders = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (!BROKER_BOOKKEEPING.test(name)) headers[name] = value;
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const { contentType, contentEncoding, messageId, type, timestamp, appId, correlationId } =
    message.properties;
  return definedOnly({
    persistent: true,
    headers,
    contentType,
    contentEncoding,
    messageId,
    type,
    timestamp,
    appId,
    correlationId,
  });
}

/** When the message first failed; `now` when it has not failed before (or the header is unreadable). */
export function firstFailureAt(headers: MessageHeaders | undefined, now: number): number {
  const value = Number(headers?.[FIRST_FAILURE_HEADER]);
  return Number.isSafeInteger(value) && value > 0 && value <= now ? value : now;
}

export function failureHeaders(
  attempts: number,
  error: string,
  firstFailedAt: number,
): Record<string, string | number> {
  return {
    [ATTEMPTS_HEADER]: attempts,
    [LAST_ERROR_HEADER]: error.slice(0, MAX_ERROR_LENGTH),
    [FIRST_FAILURE_HEADER]: firstFailedAt,
  };
}

/** Marks a message moved back from the dead letters: it may have been applied before. */
export const REPLAYED_HEADER = 'x-oms-replayed';

/** A replayed message starts over: a full set of retries, no error. */
export const REPLAY_HEADERS = {
  [ATTEMPTS_HEADER]: undefined,
  [LAST_ERROR_HEADER]: undefined,
  [FIRST_FAILURE_HEADER]: undefined,
  [REPLAYED_HEADER]: 1,
};

export const wasReplayed = (headers: MessageHeaders | undefined): boolean =>
  headers?.[REPLAYED_HEADER] !== undefined;

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
