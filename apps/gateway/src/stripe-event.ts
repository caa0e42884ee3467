import { HttpError, type ErrorDetail } from './http-errors';

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Control characters never occur in Stripe's ids and codes, and NUL cannot even be stored. */
const hasControlCharacter = (text: string) =>
  [...text].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f);
const isPlainText = (value: unknown): value is string =>
  typeof value === 'string' && !hasControlCharacter(value);
const absent = (value: unknown) => value === undefined || value === null;

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** A webhook body as JSON, or undefined when it is not JSON (the signature check refuses those). */
export function parseWebhookBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Where a parsed webhook body is not shaped as Stripe shapes an event, in the fields the system
 * reads: a non-empty `id` and a `type` (text), `data.object` an object whose `id`,
 * `client_reference_id`, `currency` and `payment_status` are text or null, `amount_total` an
 * integer or null, and `metadata` an object of strings whose `orderId` is text. Anything else is no
 * event Stripe sends, whoever signed it, and reaching the payment service's queries with an object
 * where an id belongs (`{"$gt": ""}`) would match some other order.
 */
export function stripeEventProblems(event: unknown): ErrorDetail[] {
  if (!isObject(event)) return [{ path: '', message: 'must be an object' }];
  const problems: ErrorDetail[] = [];
  const text = (value: unknown, path: string, optional: boolean) => {
    if (!(optional && absent(value)) && !isPlainText(value))
      problems.push({ path, message: 'must be a string without control characters' });
  };
  text(event.id, '/id', false);
  if (event.id === '') problems.push({ path: '/id', message: 'must not be empty' });
  text(event.type, '/type', false);
  const object = isObject(event.data) ? event.data.object : undefined;
  if (!isObject(object)) return [...problems, { path: '/data/object', message: 'must be an object' }];
  for (const field of ['id', 'client_reference_id', 'currency', 'payment_status'])
    text(object[field], `/data/object/${field}`, true);
  if (!absent(object.amount_total) && !Number.isSafeInteger(object.amount_total))
    problems.push({ path: '/data/object/amount_total', message: 'must be an integer' });
  const { metadata } = object;
  if (!absent(metadata) && !isObject(metadata)) {
    problems.push({ path: '/data/object/metadata', message: 'must be an object' });
  } else if (isObject(metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      if (key === 'orderId') text(value, '/data/object/metadata/orderId', false);
      else if (typeof value !== 'string')
        problems.push({ path: `/data/object/metadata/${escapePointer(key)}`, message: 'must be a string' });
    }
  }
  return problems;
}

/** Refuses a JSON webhook body that is no Stripe event (see stripeEventProblems) with a 400. */
export function assertStripeEventShape(event: unknown): void {
  const problems = stripeEventProblems(event);
  if (problems.length > 0) {
    throw new HttpError(400, 'invalid_argument', 'the body is not a Stripe event', problems.slice(0, 20));
  }
}
