/**
 * Request bodies that a route must refuse, each with the statuses that are right answers to it.
 * Every body here is invalid by construction for the route it is made for: a hostile request must
 * never be a valid one by chance, or it would change what the system holds.
 */
import fc from 'fast-check';
import {
  deepValue,
  hostileKey,
  idString,
  integerOutside,
  INVALID_UTF8,
  jsonText,
  notAnId,
  notAnInteger,
  notAString,
  operatorValue,
  pollutionValue,
  type JsonText,
} from './hostile-values';

/** A body (absent: none is sent) with its content type, the attack's name and its right answers. */
export interface BodyAttack {
  attack: string;
  body: string | undefined;
  contentType: string | undefined;
  statuses: number[];
}

/** A JSON object as entries of key and value text, so fields can be replaced, dropped or added. */
export type Entries = [JsonText, JsonText][];

export const render = (entries: Entries): JsonText => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`;

const JSON_TYPE = 'application/json';
const BODY_LIMIT = 64 * 1024;

const json = (attack: string, body: string | undefined, statuses = [400]): BodyAttack => ({
  attack,
  body,
  contentType: JSON_TYPE,
  statuses,
});

/** Replaces (or adds) one field of an object. */
export const withField = (entries: Entries, key: string, value: JsonText): Entries => {
  const name = jsonText(key);
  return entries.some(([k]) => k === name)
    ? entries.map(([k, v]) => [k, k === name ? value : v])
    : [...entries, [name, value]];
};

/** Values that are not an object: what a body or a nested object must not be. */
const notAnObject = fc.oneof(
  fc.constantFrom<JsonText>('[]', '[{}]', '"{}"', '1', '-1.5', 'null', 'true', 'false', '""'),
  deepValue.filter((value) => value.startsWith('[')),
);

/** Text that is not JSON: cut short, trailing junk, JavaScript-isms, raw bytes outside strings. */
const notJson = (valid: JsonText) =>
  fc.oneof(
    fc.integer({ min: 1, max: Math.max(1, valid.length - 1) }).map((cut) => valid.slice(0, cut)),
    fc.constantFrom('x', ',', '}', ']', '{', ' 1', '\x00', '"').map((junk) => `${valid}${junk}`),
    fc.constantFrom(...INVALID_UTF8).map((bytes) => `${bytes}${valid}`),
    fc.constantFrom(
      "{'items':[]}",
      '{"items":[1,]}',
      '{"a":NaN}',
      '{"a":Infinity}',
      '{/* c */}',
      '{"a":undefined}',
      '{"a":0x10}',
      '{"a":01}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '   ',
      '\t\r\n',
      'null null',
      '{"a":"unterminated',
    ),
  );

/** Content types that are not JSON, in which a JSON body must be refused (415). */
export const notJsonType = fc.constantFrom(
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/jsonx',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/x-json',
  'application/json/x',
  '*/*',
  'json',
  '',
);

/**
 * Attacks shared by every route that reads a JSON body: no object at the root, keys no schema has
 * (operators, `__proto__`), text that is not JSON, a valid body sent as another type or with none,
 * a last duplicate key that is invalid, more than 64 KiB.
 */
export function genericBodyAttacks(valid: fc.Arbitrary<Entries>): fc.Arbitrary<BodyAttack>[] {
  return [
    notAnObject.map((body) => json('body:not-an-object', body)),
    fc.oneof(operatorValue, pollutionValue).map((body) => json('body:operator-at-root', body)),
    fc
      .tuple(valid, hostileKey, fc.oneof(notAString, fc.constant<JsonText>('""')))
      .map(([entries, key, value]) => json('body:unknown-key', render([...entries, [key, value]]))),
    valid.chain((entries) => notJson(render(entries))).map((body) => json('body:not-json', body)),
    fc
      .tuple(valid, notJsonType)
      .map(([entries, type]) => ({ ...json('body:media-type', render(entries), [415]), contentType: type })),
    valid.map((entries) => ({
      ...json('body:no-content-type', render(entries), [415]),
      contentType: undefined,
    })),
    fc
      .tuple(valid, fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 16 * 1024 }))
      .map(([entries, size]) =>
        json('body:over-64KiB', render([...entries, ['"pad"', `"${'x'.repeat(size)}"`]]), [413]),
      ),
  ];
}

/** Attacks on routes whose body is required: none at all, or an empty one. */
export const missingBodyAttacks: fc.Arbitrary<BodyAttack>[] = [
  fc.constant({ ...json('body:none', undefined), contentType: undefined }),
  fc.constant(json('body:empty', '')),
];

const lineOf = (itemId: JsonText, quantity: JsonText): Entries => [
  ['"itemId"', itemId],
  ['"quantity"', quantity],
];

/** 1..3 lines of distinct menu items, quantities 1..5: a valid order body. */
export function validOrderLines(itemIds: readonly string[]): fc.Arbitrary<Entries[]> {
  return fc
    .uniqueArray(fc.constantFrom(...itemIds), { minLength: 1, maxLength: Math.min(3, itemIds.length) })
    .chain((ids) =>
      fc
        .array(fc.integer({ min: 1, max: 5 }), { minLength: ids.length, maxLength: ids.length })
        .map((quantities) => ids.map((id, i) => lineOf(jsonText(id), String(quantities[i])))),
    );
}

const orderBody = (lines: JsonText[]): Entries => [['"items"', `[${lines.join(',')}]`]];

/** Replaces the first line of an order with `line`. */
const withFirstLine = (lines: Entries[], line: JsonText) => orderBody([line, ...lines.slice(1).map(render)]);

/** Bodies of `POST /v1/customers/{customerId}/orders` that break its schema or its merge rule. */
export function orderBodyAttacks(itemIds: readonly string[]): fc.Arbitrary<BodyAttack>[] {
  const lines = validOrderLines(itemIds);
  const item = fc.constantFrom(...itemIds).map(jsonText);
  const lineAttack = (attack: string, line: fc.Arbitrary<JsonText>) =>
    fc.tuple(lines, line).map(([valid, bad]) => json(attack, render(withFirstLine(valid, bad))));
  return [
    ...genericBodyAttacks(lines.map((valid) => orderBody(valid.map(render)))),
    ...missingBodyAttacks,
    fc
      .oneof(
        notAnObject.filter((v) => !v.startsWith('[')),
        operatorValue,
        pollutionValue,
        fc.constant('{}'),
      )
      .map((items) => json('body:items-not-an-array', render([['"items"', items]]))),
    fc
      .oneof(
        fc.constant('[]'),
        fc
          .tuple(fc.integer({ min: 51, max: 80 }), item)
          .map(
            ([count, id]) => `[${Array.from({ length: count }, () => render(lineOf(id, '1'))).join(',')}]`,
          ),
      )
      .map((items) => json('body:line-count', render([['"items"', items]]))),
    lineAttack(
      'body:bad-item-id',
      notAnId.map((id) => render(lineOf(id, '1'))),
    ),
    lineAttack(
      'body:bad-quantity',
      fc.tuple(item, fc.oneof(notAnInteger, integerOutside(1, 100))).map(([id, q]) => render(lineOf(id, q))),
    ),
    lineAttack(
      'body:bad-line',
      fc.oneof(
        item.map((id) => render([['"itemId"', id]])),
        fc.constant(render([['"quantity"', '1']])),
        notAnObject,
        operatorValue,
        pollutionValue,
        fc.tuple(item, hostileKey).map(([id, key]) => render([...lineOf(id, '1'), [key, '1']])),
      ),
    ),
    fc
      .tuple(item, fc.integer({ min: 51, max: 100 }), fc.integer({ min: 51, max: 100 }))
      .map(([id, a, b]) =>
        json('body:merged-over-100', render(orderBody([lineOf(id, `${a}`), lineOf(id, `${b}`)].map(render)))),
      ),
    fc
      .tuple(lines, fc.oneof(notAnObject, operatorValue))
      .map(([valid, bad]) =>
        json('body:duplicate-key', render([...orderBody(valid.map(render)), ['"items"', bad]])),
      ),
  ];
}

/** A valid `PUT /v1/admin/stock/{itemId}` body. */
export const validStockBody = fc
  .integer({ min: 0, max: 1000 })
  .map((n): Entries => [['"available"', `${n}`]]);

export function stockBodyAttacks(): fc.Arbitrary<BodyAttack>[] {
  return [
    ...genericBodyAttacks(validStockBody),
    ...missingBodyAttacks,
    fc
      .oneof(notAnInteger, integerOutside(0, 1_000_000_000))
      .map((value) => json('body:bad-available', render([['"available"', value]]))),
    fc.constant(json('body:missing-field', '{}')),
  ];
}

/** A valid `POST /v1/admin/menu` body (the suite never sends it as it is). */
export const validMenuBody: fc.Arbitrary<Entries> = fc
  .tuple(idString(4, 12), fc.integer({ min: 0, max: 10_000 }))
  .map(([id, price]) => [
    ['"id"', jsonText(`hostile-${id}`)],
    ['"name"', jsonText(`Hostile ${id}`)],
    ['"description"', '"never created"'],
    ['"priceCents"', `${price}`],
    ['"currency"', '"usd"'],
  ]);

const MENU_FIELD_ATTACKS: Record<string, fc.Arbitrary<JsonText>> = {
  id: notAnId,
  name: fc.oneof(
    notAString,
    fc.constantFrom<JsonText>('""', '"   "', '"\\t\\n"', '"a\\u0000b"', '"tab\\tname"', '"del\\u007f"'),
    fc.integer({ min: 121, max: 400 }).map((n) => jsonText('n'.repeat(n))),
  ),
  description: fc.oneof(
    notAString,
    fc.integer({ min: 1001, max: 3000 }).map((n) => jsonText('d'.repeat(n))),
    fc.constantFrom<JsonText>('"nul\\u0000"', '"bell\\u0007"', '"esc\\u001b[31m"'),
  ),
  priceCents: fc.oneof(notAnInteger, integerOutside(0, 10_000_000)),
  currency: fc.oneof(
    notAString,
    fc.constantFrom<JsonText>('"USD"', '"us"', '"usdx"', '""', '"$gt"', '"u d"', '"ü\xffx"', '"usd\\u0000"'),
  ),
};

export function menuBodyAttacks(): fc.Arbitrary<BodyAttack>[] {
  const fields = Object.keys(MENU_FIELD_ATTACKS);
  return [
    ...genericBodyAttacks(validMenuBody),
    ...missingBodyAttacks,
    fc
      .tuple(validMenuBody, fc.constantFrom(...fields))
      .chain(([entries, field]) =>
        MENU_FIELD_ATTACKS[field]!.map((value) =>
          json(`body:bad-${field}`, render(withField(entries, field, value))),
        ),
      ),
    fc
      .tuple(validMenuBody, fc.constantFrom('"name"', '"description"', '"priceCents"', '"currency"'))
      .map(([entries, dropped]) =>
        json('body:missing-field', render(entries.filter(([key]) => key !== dropped))),
      ),
  ];
}

/** Bodies of `POST …/cancel`, which takes none (or `{}`). */
export function cancelBodyAttacks(): fc.Arbitrary<BodyAttack>[] {
  const empty = fc.constant<Entries>([]);
  return [
    ...genericBodyAttacks(empty),
    fc
      .tuple(
        fc.array(fc.tuple(hostileKey, fc.oneof(notAString, operatorValue)), { minLength: 1, maxLength: 4 }),
      )
      .map(([entries]) => json('body:unknown-key', render(entries))),
  ];
}

/** Bodies sent to `POST /v1/admin/dead-letters/{queue}/replay`, which reads none: only the framing matters. */
export function ignoredBodyAttacks(): fc.Arbitrary<BodyAttack>[] {
  const any = fc
    .oneof(operatorValue, pollutionValue, fc.constant('{}'))
    .map((text): Entries => [['"x"', text]]);
  return genericBodyAttacks(any);
}
