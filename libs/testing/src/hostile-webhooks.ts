/**
 * Stripe webhook deliveries that must change nothing: bad, missing or stale signatures over any
 * body, and valid signatures (the suite knows the local secret) over bodies no genuine event has.
 * Events only ever name orders that do not exist, so even one accepted changes no order.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { render, withField, type Entries } from './hostile-bodies';
import * as hostile from './hostile-values';

/** How the Stripe-Signature header is made once the body is final. */
export type SigningMode =
  | { kind: 'valid'; extra?: string }
  | { kind: 'none' }
  | { kind: 'literal'; header: string }
  | { kind: 'wrong-secret' | 'stale' | 'other-body' | 'v0-only' };

/** A webhook body, the id the payment service would record if it accepted it, and its right answers. */
export interface WebhookBody {
  attack: string;
  body: string;
  eventId?: string;
  statuses: number[];
}

const EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.expired',
  'checkout.session.async_payment_failed',
];

/** A genuine-looking event about an order that does not exist: accepting it changes nothing. */
export const plausibleEvent = fc
  .tuple(
    hostile.idString(16, 24),
    hostile.idString(8, 16),
    fc.constantFrom(...EVENT_TYPES),
    fc.integer({ min: 0, max: 100_000 }),
  )
  .map(([eventSuffix, orderSuffix, type, amount]) => {
    const eventId = `evt_hostile_${eventSuffix}`;
    const orderId = `ord_hostile_${orderSuffix}`;
    const session: Entries = [
      ['"id"', hostile.jsonText(`cs_hostile_${orderSuffix}`)],
      ['"object"', '"checkout.session"'],
      ['"client_reference_id"', hostile.jsonText(orderId)],
      [
        '"metadata"',
        render([
          ['"orderId"', hostile.jsonText(orderId)],
          ['"customerId"', '"hostile"'],
        ]),
      ],
      ['"amount_total"', `${amount}`],
      ['"currency"', '"usd"'],
      ['"payment_status"', type === EVENT_TYPES[0] ? '"paid"' : '"unpaid"'],
    ];
    const event: Entries = [
      ['"id"', hostile.jsonText(eventId)],
      ['"object"', '"event"'],
      ['"type"', hostile.jsonText(type)],
      ['"created"', '1700000000'],
      ['"data"', render([['"object"', render(session)]])],
    ];
    return { eventId, event, session };
  });

type Plausible = { eventId: string; event: Entries; session: Entries };

const withSession = ({ event }: Plausible, session: Entries) =>
  withField(event, 'data', render([['"object"', render(session)]]));

/** Fields of the session an event handler reads, and values no genuine event has there. */
const SESSION_FIELD_ATTACKS: Record<string, fc.Arbitrary<hostile.JsonText>> = {
  metadata: fc.oneof(
    hostile.notAString.filter((v) => !v.startsWith('{')),
    hostile.operatorValue,
    hostile.pollutionValue,
  ),
  client_reference_id: fc.oneof(
    hostile.operatorValue,
    hostile.pollutionValue,
    fc.constantFrom('1', 'true', '[]', '{}'),
  ),
  amount_total: fc.oneof(
    hostile.notAnInteger.filter((v) => v !== 'null'),
    hostile.operatorValue,
  ),
  currency: fc.oneof(hostile.operatorValue, fc.constantFrom('1', 'true', '[]', '{}')),
  payment_status: fc.oneof(hostile.operatorValue, fc.constantFrom('1', 'true', '[]', '{}')),
  id: fc.oneof(hostile.operatorValue, fc.constantFrom('1', 'true', '[]', '{}')),
};

const sessionFieldAttack = fc
  .tuple(plausibleEvent, fc.constantFrom(...Object.keys(SESSION_FIELD_ATTACKS)))
  .chain(([plausible, field]) =>
    SESSION_FIELD_ATTACKS[field]!.map((value) => ({
      attack: `webhook:bad-session-${field}`,
      body: render(withSession(plausible, withField(plausible.session, field, value))),
      eventId: plausible.eventId,
    })),
  );

const orderIdAttack = fc
  .tuple(plausibleEvent, fc.oneof(hostile.operatorValue, hostile.pollutionValue, hostile.notAString))
  .map(([plausible, orderId]) => ({
    attack: 'webhook:bad-metadata-orderId',
    body: render(
      withSession(plausible, withField(plausible.session, 'metadata', render([['"orderId"', orderId]]))),
    ),
    eventId: plausible.eventId,
  }));

const eventFieldAttack = fc
  .tuple(plausibleEvent, fc.constantFrom('id', 'type', 'data'))
  .chain(([plausible, field]) =>
    fc
      .oneof(
        hostile.operatorValue,
        hostile.pollutionValue,
        hostile.notAString.filter((v) => field !== 'data' || !v.startsWith('{')),
      )
      .map((value) => ({
        attack: `webhook:bad-event-${field}`,
        body: render(withField(plausible.event, field, value)),
        eventId: field === 'id' ? undefined : plausible.eventId,
      })),
  );

/** Shapes that are no event at all: not JSON, not an object, parts missing, raw bytes, deep. */
const notAnEvent = fc.oneof(
  fc.constantFrom('not json', '{', '{"id":', '[]', 'null', '1', '"evt"', 'true', '{}', '[{"id":"evt_x"}]'),
  fc.constantFrom('{"id":"evt_hostile_a"}', '{"id":"evt_hostile_b","type":"checkout.session.completed"}'),
  fc.constantFrom(
    '{"id":"evt_hostile_c","type":"checkout.session.expired","data":null}',
    '{"id":"evt_hostile_d","type":"checkout.session.expired","data":{"object":null}}',
    '{"id":"evt_hostile_e","type":"checkout.session.completed","data":{"object":"cs"}}',
  ),
  fc.constantFrom(...hostile.INVALID_UTF8).map((bytes) => `{"id":"evt_${bytes}","type":"x"}`),
  hostile.deepValue,
  hostile.pollutionValue,
  hostile.operatorValue,
);

/** Events of a genuine shape that no handler acts on: unknown types, hostile strings, pollution keys. */
const harmlessEvent = fc.oneof(
  fc
    .tuple(
      plausibleEvent,
      fc.constantFrom('customer.created', '$where', '__proto__', 'checkout.session.completed '),
    )
    .map(([plausible, type]) => ({
      plausible,
      event: withField(plausible.event, 'type', hostile.jsonText(type)),
    })),
  fc
    .tuple(plausibleEvent, fc.constantFrom('$gt', '{"$gt":""}', '../../x', '', ' ', 'x'.repeat(300)))
    .map(([plausible, orderId]) => ({
      plausible,
      event: withSession(
        plausible,
        withField(plausible.session, 'metadata', render([['"orderId"', hostile.jsonText(orderId)]])),
      ),
    })),
  fc.tuple(plausibleEvent, hostile.hostileKey).map(([plausible, key]) => ({
    plausible,
    event: [...plausible.event, [key, '{"isAdmin":true}']] as Entries,
  })),
);

/** Bodies worth a valid signature: each either refused, or accepted and recorded under its own event id. */
export const signedHostileBody: fc.Arbitrary<WebhookBody> = fc.oneof(
  sessionFieldAttack.map((attack) => ({ ...attack, statuses: [400, 200] })),
  orderIdAttack.map((attack) => ({ ...attack, statuses: [400, 200] })),
  eventFieldAttack.map((attack) => ({ ...attack, statuses: [400, 200] })),
  notAnEvent.map((body) => ({ attack: 'webhook:not-an-event', body, statuses: [400, 200] })),
  harmlessEvent.map(({ plausible, event }) => ({
    attack: 'webhook:harmless-event',
    body: render(event),
    eventId: plausible.eventId,
    statuses: [200, 400],
  })),
);

/** Signature headers that must not verify, whatever the body. */
export const badSignature: fc.Arbitrary<SigningMode> = fc.oneof(
  fc.constant<SigningMode>({ kind: 'none' }),
  fc.constantFrom<SigningMode>(
    { kind: 'wrong-secret' },
    { kind: 'stale' },
    { kind: 'other-body' },
    { kind: 'v0-only' },
  ),
  fc
    .oneof(
      fc.constantFrom(
        '',
        't=',
        'v1=',
        't=,v1=',
        't=abc,v1=def',
        't=1,v1=00',
        '{"$gt":""}',
        '$where',
        '\xff\xfe',
      ),
      fc.string({ maxLength: 64 }).map((text) => text.replace(/[\r\n]/g, ' ')),
      fc.integer({ min: 2000, max: 9000 }).map((length) => `t=1,v1=${'a'.repeat(length)}`),
    )
    .map((header): SigningMode => ({ kind: 'literal', header })),
);

/** Stripe's HMAC over `t.payload`, where the payload is the body decoded as UTF-8 (as the SDK does). */
function hmac(secret: string, timestamp: number, body: string): string {
  const payload = new TextDecoder().decode(Buffer.from(body, 'latin1'));
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
}

/** The Stripe-Signature header for `body`, or undefined when none is to be sent. */
export function signatureFor(
  mode: SigningMode,
  body: string,
  secret: string,
  now: number,
): string | undefined {
  switch (mode.kind) {
    case 'none':
      return undefined;
    case 'literal':
      return mode.header;
    case 'valid':
      return `t=${now},v1=${hmac(secret, now, body)}${mode.extra ?? ''}`;
    case 'wrong-secret':
      return `t=${now},v1=${hmac(`${secret}x`, now, body)}`;
    case 'stale':
      return `t=${now - 400},v1=${hmac(secret, now - 400, body)}`;
    case 'other-body':
      return `t=${now},v1=${hmac(secret, now, `${body} `)}`;
    case 'v0-only':
      return `t=${now},v0=${hmac(secret, now, body)}`;
  }
}
