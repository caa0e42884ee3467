/**
 * Hostile pieces of requests, as text: JSON is built as text (latin1, one character per byte) so
 * that it can hold what a JavaScript value cannot — raw invalid UTF-8, duplicate keys, escaped
 * `__proto__`, numbers beyond a double, nesting deeper than JSON.stringify would go.
 */
import fc from 'fast-check';
import { toLatin1 } from './raw-http';

/** JSON text (or something meant to look like it) as latin1 bytes. */
export type JsonText = string;

export const jsonText = (value: unknown): JsonText => toLatin1(JSON.stringify(value));

export const OPERATORS = [
  '$gt',
  '$gte',
  '$lt',
  '$ne',
  '$in',
  '$nin',
  '$regex',
  '$where',
  '$expr',
  '$exists',
  '$or',
  '$function',
  '$jsonSchema',
] as const;
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Every field name of every request body: a random key is never one of them. */
const SCHEMA_FIELDS = new Set([
  'items',
  'itemId',
  'quantity',
  'available',
  'id',
  'name',
  'description',
  'priceCents',
  'currency',
]);

const ID_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'];

/** Strings that match `^[A-Za-z0-9_-]{min,max}$`. */
export const idString = (minLength = 1, maxLength = 24) =>
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength, maxLength });

/** Raw bytes that are not UTF-8: a lone continuation byte, an overlong '/', a surrogate, 0xFF. */
export const INVALID_UTF8 = [
  '\x80',
  '\xc0\xaf',
  '\xc0\xae',
  '\xed\xa0\x80',
  '\xff\xfe',
  '\xf8\x88\x80\x80\x80',
  '\xc3',
];

const operand = fc.constantFrom<JsonText>(
  '""',
  'null',
  '1',
  '[]',
  '{}',
  '"function () { return true; }"',
  '"sleep(5000) || true"',
  '".*"',
  '{"$gt":""}',
);

/** `{"$gt": ""}` and friends: what an injection puts where a scalar belongs. */
export const operatorValue: fc.Arbitrary<JsonText> = fc
  .tuple(fc.constantFrom(...OPERATORS), operand)
  .map(([operator, value]) => `{${jsonText(operator)}:${value}}`);

export const pollutionValue = fc.constantFrom<JsonText>(
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"prototype":{"isAdmin":true}}',
  '{"\\u005f_proto__":{"isAdmin":true}}',
);

/** Nesting from a little to far more than any schema expects (the deepest objects exceed 64 KiB: a 413). */
export const deepValue: fc.Arbitrary<JsonText> = fc
  .tuple(fc.integer({ min: 16, max: 12_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

/** Keys no request schema has: operators, prototype pollution (plain and escaped), junk, bad UTF-8. */
export const hostileKey: fc.Arbitrary<JsonText> = fc.oneof(
  fc.constantFrom(...OPERATORS).map(jsonText),
  fc.constantFrom(...POLLUTION_KEYS).map(jsonText),
  fc.constantFrom<JsonText>('"\\u005f_proto__"', '"__pro\\u0074o__"', '"\\u0024where"', '""', '"items "'),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((key) => !SCHEMA_FIELDS.has(key))
    .map(jsonText),
  fc.tuple(idString(0, 6), fc.constantFrom(...INVALID_UTF8)).map(([key, bytes]) => `"${key}${bytes}"`),
);

/** Any JSON value that is not a string. */
export const notAString: fc.Arbitrary<JsonText> = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom<JsonText>('1.5', '-0.0001', '1e400', 'true', 'false', 'null', '[]', '["a"]', '{}'),
  operatorValue,
  pollutionValue,
  deepValue,
);

/** Any JSON value that is not an integer (a quoted number is a string: nothing is coerced). */
export const notAnInteger: fc.Arbitrary<JsonText> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((n) => `${n}.5`),
  fc.integer({ min: 1, max: 100 }).map((n) => jsonText(String(n))),
  fc.constantFrom<JsonText>('1e400', '-1e400', '"1e3"', 'true', 'null', '[]', '[1]', '{}', '"ten"'),
  operatorValue,
  pollutionValue,
  deepValue,
);

/** Integers outside `[min, max]`, including ones no double holds exactly. */
export const integerOutside = (min: number, max: number): fc.Arbitrary<JsonText> =>
  fc.oneof(
    fc.integer({ min: max + 1, max: max + 1_000_000 }).map(String),
    fc.integer({ min: min - 1_000_000, max: min - 1 }).map(String),
    fc.constantFrom<JsonText>('1e21', '-1e21', '1e308', `${max}1`, '-9007199254740993'),
  );

/** A character `^[A-Za-z0-9_-]+$` refuses, as JSON string content (latin1 bytes, possibly invalid UTF-8). */
const forbiddenInId = fc.oneof(
  fc.constantFrom('$', '.', '/', ' ', '%', '{', '}', ':', '*', '\\"', '\\\\', '\\u0000', '\\n', '\\ud800'),
  fc.constantFrom('é', '\u202e', '\u200b', 'ﬀ', '😀', 'Ａ').map(toLatin1),
  fc.constantFrom(...INVALID_UTF8),
);

/** JSON values an id field (`^[A-Za-z0-9_-]{1,64}$`) refuses. */
export const notAnId: fc.Arbitrary<JsonText> = fc.oneof(
  fc.constant<JsonText>('""'),
  idString(65, 200).map(jsonText),
  fc
    .tuple(idString(0, 10), forbiddenInId, idString(0, 10))
    .map(([before, bad, after]) => `"${before}${bad}${after}"`),
  fc.constantFrom<JsonText>(
    '"$gt"',
    '"$where"',
    '"{\\"$gt\\":\\"\\"}"',
    '"../../etc/passwd"',
    '"__proto__ "',
  ),
  notAString,
);

/**
 * Path segments a route's id parameter refuses, percent-encoded or raw: dot segments, encoded
 * NULs and slashes, malformed escapes, overlong UTF-8, raw non-ASCII bytes, the overlong.
 */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '.',
    '..',
    '%2e%2e',
    '%2E%2E%2F%2E%2E',
    '..%2f..%2fetc%2fpasswd',
    '%00',
    'a%00b',
    '%2F',
    '%',
    '%zz',
    '%C0%AE%C0%AE',
    '%ED%A0%80',
    '%FF',
    '%24gt',
    '%7B%22%24gt%22%3A%22%22%7D',
    '__proto__%20',
    '%E2%80%AE',
    '%20',
  ),
  fc.tuple(idString(1, 8), fc.constantFrom(...INVALID_UTF8)).map(([id, bytes]) => `${id}${bytes}`),
  fc.tuple(idString(1, 8), fc.constantFrom('é', '😀').map(toLatin1)).map(([id, raw]) => `${id}${raw}`),
  fc.integer({ min: 257, max: 2000 }).map((length) => 'a'.repeat(length)),
  fc.integer({ min: 65, max: 256 }).map((length) => 'b'.repeat(length)),
);

/** Cursors shaped as the order service makes them (base64url JSON), holding what none of its has. */
export const hostileCursor: fc.Arbitrary<string> = fc
  .constantFrom(
    '[0,{"$gt":""}]',
    '[1e400,"x"]',
    '[8640000000000001,"x"]',
    '[-8640000000000001,"x"]',
    '[0,"\\u0000"]',
    '[0,"ord_\\ud800"]',
    '{"$gt":""}',
    '[{"$gt":0},"x"]',
    '[0]',
    '"x"',
    'null',
    '[0,"x",{"$where":"1"}]',
  )
  .map((json) => Buffer.from(json).toString('base64url'));

/** Query strings no route accepts as they are: operators, pollution, duplicates, bad escapes, junk. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'limit',
        'cursor',
        'status',
        'orderId',
        '$where',
        '$gt',
        'limit[$gt]',
        'cursor[$ne]',
        'orderId[$regex]',
        '__proto__',
        '__proto__[limit]',
        'constructor[prototype][isAdmin]',
        'a%00b',
        '%FF',
        '',
      ),
      fc.oneof(
        fc.constantFrom('', '0', '-1', '101', '1e3', '1.5', 'abc', '%00', '%FF%FE', '%zz', 'queued', 'burnt'),
        fc.constantFrom('%7B%22%24gt%22%3A%22%22%7D', '%24ne', 'true', '%5B%5D', '1%00'),
        hostileCursor,
        fc.integer({ min: 600, max: 3000 }).map((length) => 'c'.repeat(length)),
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`);

/** One query parameter's value, percent-encoded: operators, NULs, bad escapes, the overlong. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '%7B%22%24gt%22%3A%22%22%7D',
    '%24ne',
    '%00',
    'a%01b',
    '%FF',
    '%C0%AE',
    '%E2%80%AE',
    '..%2F..%2F',
    '__proto__',
    'constructor',
    "'%20OR%201=1--",
    '*',
    '%5B%5D',
  ),
  fc.constantFrom(
    '0',
    '101',
    '-1',
    '1e2',
    '1.0',
    '0x10',
    '+5',
    '%205',
    'Infinity',
    'NaN',
    '99999999999999999999',
  ),
  fc.constantFrom(129, 512, 513, 2000).map((length) => 'q'.repeat(length)),
  hostileCursor,
);
