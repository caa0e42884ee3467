/**
 * A property-based generator of malformed and hostile requests to every public endpoint of the
 * gateway (HTTP-API.md), for the malformed-input suite and `npm run chaos`.
 *
 * Every request is built as a valid one and then broken on purpose by at least one attack that
 * makes it invalid whatever else it carries (a bad body, path, key, token, signature or framing),
 * so none can change what the system holds; harmless noise (junk headers and query strings that
 * the route ignores) rides along. Each request lists the statuses that are right answers.
 */
import fc from 'fast-check';
import {
  cancelBodyAttacks,
  ignoredBodyAttacks,
  menuBodyAttacks,
  orderBodyAttacks,
  render,
  stockBodyAttacks,
  validMenuBody,
  validOrderLines,
  validStockBody,
  type BodyAttack,
} from './hostile-bodies';
import {
  hostileQuery,
  hostileQueryValue,
  hostileSegment,
  idString,
  INVALID_UTF8,
  OPERATORS,
  POLLUTION_KEYS,
} from './hostile-values';
import {
  badSignature,
  plausibleEvent,
  signatureFor,
  signedHostileBody,
  type SigningMode,
} from './hostile-webhooks';
import type { RawRequest } from './raw-http';

/** What the generator needs to know about the system under attack. */
export interface HostileTarget {
  /** Orders of the test's customers (two customers at least): attacks name them, and must change none. */
  orders: readonly { customerId: string; orderId: string }[];
  /** Item ids on the menu. */
  itemIds: readonly string[];
  adminToken: string;
  /** STRIPE_WEBHOOK_SECRET, to sign hostile bodies validly. */
  webhookSecret: string;
  /** Signatures are made for this moment (seconds): send them within Stripe's 300 s tolerance. */
  nowSeconds: number;
}

export interface HostileRequest extends RawRequest {
  /** The route under attack, e.g. `POST /v1/customers/{customerId}/orders`. */
  endpoint: string;
  /** What makes it hostile, e.g. `body:operator-at-root`, `wire:huge-header`. */
  attacks: readonly string[];
  /** The statuses that are right answers to it. */
  expected: readonly number[];
  /** A validly signed event the payment service may accept: the only record (inbox) it may add. */
  signedEventId?: string;
}

/** A request being built: a valid one first, then broken. */
interface Draft {
  endpoint: string;
  method: string;
  path: string;
  query: string;
  headers: [string, string][];
  contentType: string | undefined;
  body: string | undefined;
  signing?: SigningMode;
  statuses: number[];
  attacks: string[];
  signedEventId?: string;
}

/** A change that makes a draft invalid; two of the same dimension would undo each other. */
interface Attack {
  dimension: 'path' | 'body' | 'key' | 'auth' | 'signature' | 'query';
  apply: (draft: Draft) => Draft;
}

const JSON_TYPE = 'application/json';
const BODY_LIMIT = 64 * 1024;
/** Node's limit on the request line and headers together. */
const MAX_HEAD_BYTES = 16 * 1024;

/** `value` with probability 1/`odds`, else undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>, odds: number) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: odds - 1 }, { arbitrary: value, weight: 1 });

const attack = (
  dimension: Attack['dimension'],
  name: string,
  statuses: number[],
  change: Partial<Draft> = {},
) => ({
  dimension,
  apply: (draft: Draft): Draft => ({
    ...draft,
    ...change,
    statuses: [...draft.statuses, ...statuses],
    attacks: [...draft.attacks, name],
  }),
});

const bodyAttack = ({ attack: name, body, contentType, statuses }: BodyAttack): Attack =>
  attack('body', name, statuses, { body, contentType });

const withHeader = (name: string, value: string) => (draft: Draft) => ({
  ...draft,
  headers: [...draft.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()), [name, value]] as [
    string,
    string,
  ][],
});

const draft = (endpoint: string, method: string, path: string, extra: Partial<Draft> = {}): Draft => ({
  endpoint,
  method,
  path,
  query: '',
  headers: [],
  contentType: undefined,
  body: undefined,
  statuses: [],
  attacks: [],
  ...extra,
});

// ---------------------------------------------------------------- path, query, auth, key attacks

/** A hostile path segment in place of a parameter (`{customerId}` → `%2e%2e`): 400, or 404 once no route matches. */
const segmentAttack = (name: string, build: (segment: string) => string) =>
  hostileSegment.map((segment): Attack => ({
    dimension: 'path',
    apply: (d) => ({ ...attack('path', `path:${name}`, [400, 404]).apply(d), path: build(segment) }),
  }));

/** Junk in the query string of a route that reads one (answers 200 when the junk happens to be valid). */
const queryAttack = (statuses: number[]) =>
  hostileQuery.map((query) => attack('query', 'query:hostile', statuses, { query }));

/** One parameter the route reads, given a hostile value (the rest of the query left out): it reaches the backend. */
const parameterAttack = (names: string[]) =>
  fc
    .tuple(pick(names), hostileQueryValue)
    .map(([name, value]) => attack('query', `query:${name}`, [200, 400], { query: `?${name}=${value}` }));

const wrongToken = (token: string) =>
  fc
    .oneof(
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token.toUpperCase()}`,
        `Basic ${token}`,
        `Bearer ${token} extra`,
        `Bearer ${token}\xff`,
        `${token}`,
        'Bearer {"$gt":""}',
        'Bearer $where',
        'Bearer __proto__',
        `Bearer\t\t${token}x`,
      ),
      idString(1, 40).map((random) => `Bearer ${random}`),
      fc.integer({ min: 1000, max: 8000 }).map((length) => `Bearer ${'t'.repeat(length)}`),
    )
    .filter((header) => !new RegExp(`^bearer[ \\t]+${token}$`, 'i').test(header.trim()));

/** A missing, malformed or wrong admin token: always a 401, whatever else the request carries. */
const authAttack = (token: string) =>
  fc.oneof(
    fc.constant<Attack>({
      dimension: 'auth',
      apply: (d) => ({
        ...attack('auth', 'auth:none', [401]).apply(d),
        headers: d.headers.filter(([n]) => n !== 'Authorization'),
      }),
    }),
    wrongToken(token).map((header): Attack => ({
      dimension: 'auth',
      apply: (d) => withHeader('Authorization', header)(attack('auth', 'auth:wrong', [401]).apply(d)),
    })),
  );

/** An Idempotency-Key the contract refuses (empty after trimming, or over 255 characters). */
const keyAttack = fc
  .oneof(
    fc.constantFrom('', ' ', '\t', '   '),
    fc.integer({ min: 256, max: 6000 }).map((length) => 'k'.repeat(length)),
  )
  .map((key): Attack => ({
    dimension: 'key',
    apply: (d) =>
      withHeader('Idempotency-Key', key)(attack('key', 'header:bad-idempotency-key', [400]).apply(d)),
  }));

/** Keys that are fine on their own (latin1 bytes, operators, pollution names): noise on a broken request. */
const oddValidKey = fc.oneof(
  idString(1, 40),
  fc.constantFrom(
    '$gt',
    '{"$gt":""}',
    '__proto__',
    'constructor',
    '\xff\xfe',
    'k\x80y',
    '../../etc/passwd',
    ' a ',
  ),
);

// ---------------------------------------------------------------- endpoints

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

function placeOrder(target: HostileTarget): fc.Arbitrary<Draft> {
  const customer = pick(target.orders.map((o) => o.customerId));
  const base = fc
    .tuple(customer, validOrderLines(target.itemIds), fc.option(oddValidKey, { nil: undefined }))
    .map(([customerId, lines, key]) =>
      draft('POST /v1/customers/{customerId}/orders', 'POST', `/v1/customers/${customerId}/orders`, {
        contentType: JSON_TYPE,
        body: render([['"items"', `[${lines.map(render).join(',')}]`]]),
        headers: key === undefined ? [] : [['Idempotency-Key', key]],
      }),
    );
  return broken(
    base,
    [
      ...orderBodyAttacks(target.itemIds).map((a) => a.map(bodyAttack)),
      segmentAttack('customer-id', (s) => `/v1/customers/${s}/orders`),
      keyAttack,
    ],
    { noiseQuery: true },
  );
}

function cancelOrder(target: HostileTarget): fc.Arbitrary<Draft> {
  const endpoint = 'POST /v1/customers/{customerId}/orders/{orderId}/cancel';
  const base = pick(target.orders).map(({ customerId, orderId }) =>
    draft(endpoint, 'POST', `/v1/customers/${customerId}/orders/${orderId}/cancel`),
  );
  const foreign = fc
    .tuple(pick(target.orders), pick(target.orders), idString(4, 20))
    .map(([mine, theirs, stranger]): Attack => {
      const customerId = mine.customerId === theirs.customerId ? `stranger-${stranger}` : mine.customerId;
      return attack('path', 'path:foreign-order', [404], {
        path: `/v1/customers/${customerId}/orders/${theirs.orderId}/cancel`,
      });
    });
  return broken(
    base,
    [
      ...cancelBodyAttacks().map((a) => a.map(bodyAttack)),
      foreign,
      segmentAttack('customer-id', (s) => `/v1/customers/${s}/orders/ord-x/cancel`),
      fc.tuple(pick(target.orders), hostileSegment).map(([{ customerId }, s]) =>
        attack('path', 'path:order-id', [400, 404], {
          path: `/v1/customers/${customerId}/orders/${s}/cancel`,
        }),
      ),
    ],
    { noiseQuery: true },
  );
}

function getOrder(target: HostileTarget): fc.Arbitrary<Draft> {
  const endpoint = 'GET /v1/customers/{customerId}/orders/{orderId}';
  const base = pick(target.orders).map(({ customerId, orderId }) =>
    draft(endpoint, 'GET', `/v1/customers/${customerId}/orders/${orderId}`),
  );
  const foreign = fc
    .tuple(pick(target.orders), pick(target.orders), idString(4, 20))
    .map(([mine, theirs, s]) => {
      const customerId = mine.customerId === theirs.customerId ? `stranger-${s}` : mine.customerId;
      // Never another customer's order: exactly 404.
      return attack('path', 'path:foreign-order', [404], {
        path: `/v1/customers/${customerId}/orders/${theirs.orderId}`,
      });
    });
  return broken(
    base,
    [
      foreign,
      segmentAttack('customer-id', (s) => `/v1/customers/${s}/orders/ord-x`),
      fc
        .tuple(pick(target.orders), hostileSegment)
        .map(([{ customerId }, s]) =>
          attack('path', 'path:order-id', [400, 404], { path: `/v1/customers/${customerId}/orders/${s}` }),
        ),
    ],
    { noiseQuery: true },
  );
}

function readOnly(
  endpoint: string,
  paths: fc.Arbitrary<string>,
  attacks: fc.Arbitrary<Attack>[],
): fc.Arbitrary<Draft> {
  return broken(
    paths.map((path) => draft(endpoint, 'GET', path)),
    attacks,
    { noiseQuery: false },
  );
}

function readRoutes(target: HostileTarget): fc.Arbitrary<Draft>[] {
  const customer = pick(target.orders.map((o) => o.customerId));
  const item = pick(target.itemIds);
  return [
    readOnly(
      'GET /v1/customers/{customerId}/orders',
      customer.map((c) => `/v1/customers/${c}/orders`),
      [
        queryAttack([200, 400]),
        parameterAttack(['cursor', 'limit']),
        segmentAttack('customer-id', (s) => `/v1/customers/${s}/orders`),
      ],
    ),
    readOnly('GET /v1/menu', fc.constant('/v1/menu'), [queryAttack([200])]),
    readOnly(
      'GET /v1/menu/{itemId}',
      item.map((id) => `/v1/menu/${id}`),
      [
        queryAttack([200]),
        segmentAttack('item-id', (s) => `/v1/menu/${s}`),
        idString(4, 20).map((id) =>
          attack('path', 'path:unknown-item', [404], { path: `/v1/menu/hostile-${id}` }),
        ),
      ],
    ),
    readOnly('GET /v1/kitchen/tickets', fc.constant('/v1/kitchen/tickets'), [
      queryAttack([200, 400]),
      parameterAttack(['orderId', 'status']),
    ]),
    readOnly('GET /healthz|/readyz|/openapi.json', pick(['/healthz', '/readyz', '/openapi.json']), [
      queryAttack([200]),
    ]),
  ];
}

function webhook(): fc.Arbitrary<Draft> {
  const endpoint = 'POST /v1/webhooks/stripe';
  const base = plausibleEvent.map(({ event }) =>
    draft(endpoint, 'POST', '/v1/webhooks/stripe', {
      contentType: JSON_TYPE,
      body: render(event),
      signing: { kind: 'valid' },
    }),
  );
  const signed = signedHostileBody.map(({ attack: name, body, eventId, statuses }): Attack => ({
    dimension: 'body',
    apply: (d) => ({ ...attack('body', name, statuses, { body }).apply(d), signedEventId: eventId }),
  }));
  const unsigned = badSignature.map((signing) =>
    attack('signature', `signature:${signing.kind}`, [400], { signing }),
  );
  const framing = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(
          ...[
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/jsonx',
            'application/vnd.api+json',
            '',
          ],
        ),
      )
      .map(([contentType]) => attack('body', 'body:media-type', [415], { contentType })),
    fc.constant(attack('body', 'body:no-content-type', [415], { contentType: undefined })),
    fc
      .integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 16 * 1024 })
      .map((size) => attack('body', 'body:over-64KiB', [413], { body: `{"pad":"${'x'.repeat(size)}"}` })),
  );
  return broken(base, [signed, unsigned, framing], { noiseQuery: true });
}

function adminRoutes(target: HostileTarget): fc.Arbitrary<Draft>[] {
  const auth = (d: Draft) => ({
    ...d,
    headers: [...d.headers, ['Authorization', `Bearer ${target.adminToken}`]] as [string, string][],
  });
  const withAuth = (endpoint: string, method: string, path: string, extra: Partial<Draft> = {}) =>
    auth(draft(endpoint, method, path, extra));
  const item = pick(target.itemIds);
  const setStock = fc.tuple(item, validStockBody).map(([id, body]) =>
    withAuth('PUT /v1/admin/stock/{itemId}', 'PUT', `/v1/admin/stock/${id}`, {
      contentType: JSON_TYPE,
      body: render(body),
    }),
  );
  const upsertMenu = validMenuBody.map((body) =>
    withAuth('POST /v1/admin/menu', 'POST', '/v1/admin/menu', { contentType: JSON_TYPE, body: render(body) }),
  );
  const deadLetters = fc.constant(withAuth('GET /v1/admin/dead-letters', 'GET', '/v1/admin/dead-letters'));
  const replay = idString(4, 30).map((queue) =>
    withAuth(
      'POST /v1/admin/dead-letters/{queue}/replay',
      'POST',
      `/v1/admin/dead-letters/hostile-${queue}/replay`,
      {
        statuses: [404],
        attacks: ['path:unknown-queue'],
      },
    ),
  );
  const unauthorized = authAttack(target.adminToken);
  return [
    broken(
      setStock,
      [
        unauthorized,
        ...stockBodyAttacks().map((a) => a.map(bodyAttack)),
        segmentAttack('item-id', (s) => `/v1/admin/stock/${s}`),
        idString(4, 20).map((id) =>
          attack('path', 'path:unknown-item', [404], { path: `/v1/admin/stock/hostile-${id}` }),
        ),
      ],
      { noiseQuery: true },
    ),
    broken(upsertMenu, [unauthorized, ...menuBodyAttacks().map((a) => a.map(bodyAttack))], {
      noiseQuery: true,
    }),
    broken(deadLetters, [unauthorized, queryAttack([200, 400]), parameterAttack(['limit'])], {
      noiseQuery: false,
    }),
    broken(
      replay,
      [
        unauthorized,
        ...ignoredBodyAttacks().map((a) => a.map(bodyAttack)),
        segmentAttack('queue', (s) => `/v1/admin/dead-letters/${s}/replay`),
      ],
      { noiseQuery: true },
    ),
  ];
}

/** Paths no route takes as they are (`//`, dot segments, encoded NULs, overlong), under any method, with no body. */
function oddPaths(): fc.Arbitrary<Draft> {
  const paths = fc.oneof(
    pick([
      '//v1/menu',
      '/v1//menu',
      '///',
      '/v1/menu/',
      '/v1/./menu',
      '/v1/../v1/menu',
      '/v1/%2e%2e/v1/menu',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/v1/menu/..%2f..%2fadmin',
      '/v1/menu%00',
      '/v1/menu;jsessionid=1',
      '/v1/menu#fragment',
      '/V1/MENU',
      '/%76%31/menu',
      '/v1/admin/stock/',
      '/v1/admin//stock/x',
      '/v1/customers//orders',
      '/v1/customers/a/orders//cancel',
      '/v1/webhooks/stripe/',
      '/v1/webhooks//stripe',
      '/healthz/',
      '/healthz%20',
      '*',
      'http://evil.example/v1/menu',
      '/v1/admin/dead-letters/%2e%2e/replay',
    ]),
    fc.integer({ min: 2000, max: 14_000 }).map((length) => `/v1/${'x'.repeat(length)}`),
    fc.integer({ min: 20, max: 400 }).map((count) => '/v1'.concat('/..'.repeat(count), '/menu')),
  );
  const methods = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'SEARCH']);
  return fc.tuple(paths, methods).map(([path, method]) =>
    draft('odd path', method, path, {
      statuses: method === 'GET' ? [200, 400, 404] : [400, 401, 404],
      attacks: ['path:odd'],
    }),
  );
}

/** Known paths under methods they do not take: always a 404. */
function wrongMethods(target: HostileTarget): fc.Arbitrary<Draft> {
  const { customerId, orderId } = target.orders[0]!;
  const routes: [string, string[]][] = [
    ['/v1/menu', ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']],
    [`/v1/customers/${customerId}/orders`, ['PUT', 'DELETE', 'PATCH', 'OPTIONS']],
    [`/v1/customers/${customerId}/orders/${orderId}`, ['POST', 'PUT', 'DELETE', 'PATCH']],
    [`/v1/customers/${customerId}/orders/${orderId}/cancel`, ['GET', 'PUT', 'DELETE']],
    ['/v1/webhooks/stripe', ['GET', 'PUT', 'DELETE']],
    ['/v1/admin/stock/x', ['GET', 'POST', 'DELETE']],
    ['/v1/admin/menu', ['GET', 'PUT', 'DELETE']],
    ['/v1/kitchen/tickets', ['POST', 'DELETE']],
  ];
  return pick(routes).chain(([path, methods]) =>
    pick(methods).map((method) =>
      draft('wrong method', method, path, { statuses: [404], attacks: ['method:wrong'] }),
    ),
  );
}

// ---------------------------------------------------------------- composition

/** Harmless headers: junk trace and request ids, latin1 bytes, operator and pollution names. */
const noiseHeaders = fc.array(
  fc.tuple(
    pick([
      'X-Request-Id',
      'Traceparent',
      'Tracestate',
      'Accept',
      'User-Agent',
      'X-Forwarded-For',
      'Cookie',
      'Referer',
      ...OPERATORS,
      ...POLLUTION_KEYS,
    ]),
    fc.oneof(
      fc.string({ maxLength: 40 }).map((text) => text.trim()),
      pick([
        '{"$gt":""}',
        '00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff',
        '\xff\xfe\x80',
        'é'.repeat(10),
      ]),
      fc.integer({ min: 200, max: 3000 }).map((length) => 'n'.repeat(length)),
    ),
  ),
  { maxLength: 3 },
);

/**
 * A valid draft broken by one attack (maybe two of different dimensions), with harmless noise:
 * junk headers always, a junk query string where the route reads none.
 */
function broken(
  base: fc.Arbitrary<Draft>,
  attacks: fc.Arbitrary<Attack>[],
  options: { noiseQuery: boolean },
) {
  const anyAttack = fc.oneof(...attacks);
  return fc
    .tuple(base, anyAttack, sometimes(anyAttack, 3), noiseHeaders, sometimes(hostileQuery, 4))
    .map(([valid, first, second, headers, query]) => {
      let result = first.apply(valid);
      if (second && second.dimension !== first.dimension) result = second.apply(result);
      result = {
        ...result,
        headers: [...headers.map(([n, v]): [string, string] => [n, v]), ...result.headers],
      };
      if (options.noiseQuery && query && result.query === '') result = { ...result, query };
      return result;
    });
}

/** The same request, broken on the wire: bytes the parser refuses, oversized headers, bad framing. */
interface WireAttack {
  name: string;
  statuses: number[];
  change: (request: RawRequest) => RawRequest;
}

const WIRE_ATTACKS: fc.Arbitrary<WireAttack> = fc.oneof(
  pick(['\x00', '\x01', '\x0b', '\x1f', '\x7f', 'a\rb']).map((bad) => ({
    name: 'wire:control-byte-in-header',
    statuses: [400],
    change: (r: RawRequest) => ({ ...r, headers: [...r.headers, ['X-Hostile', `a${bad}b`] as const] }),
  })),
  pick(['X Hostile', 'X-Hostile(', '\xff\xfe', 'X"Q', '']).map((name) => ({
    name: 'wire:bad-header-name',
    statuses: [400],
    change: (r: RawRequest) => ({ ...r, headers: [...r.headers, [name, 'v'] as const] }),
  })),
  // A request that is also malformed earlier on (raw bytes in its target) is refused for that first: a 400.
  fc.integer({ min: 17 * 1024, max: 32 * 1024 }).map((size) => ({
    name: 'wire:huge-header',
    statuses: [431, 400],
    change: (r: RawRequest) => ({ ...r, headers: [...r.headers, ['X-Huge', 'h'.repeat(size)] as const] }),
  })),
  fc.integer({ min: 17 * 1024, max: 24 * 1024 }).map((size) => ({
    name: 'wire:huge-idempotency-key',
    statuses: [431, 400],
    change: (r: RawRequest) => ({
      ...r,
      headers: [...r.headers, ['Idempotency-Key', 'k'.repeat(size)] as const],
    }),
  })),
  pick(['get', 'G\x00T', 'FOO', 'POST\t', 'GET /x']).map((method) => ({
    name: 'wire:bad-method',
    statuses: [400],
    change: (r: RawRequest) => ({ ...r, method }),
  })),
  pick(INVALID_UTF8).map((bytes) => ({
    name: 'wire:raw-bytes-in-target',
    statuses: [400],
    change: (r: RawRequest) => ({ ...r, target: `${r.target}${bytes}` }),
  })),
  fc.constant<WireAttack>({
    name: 'wire:no-host',
    statuses: [400],
    change: (r: RawRequest) => ({ ...r, headers: r.headers.filter(([n]) => n !== 'Host') }),
  }),
  pick([
    ['Transfer-Encoding', 'chunked'],
    ['Content-Length', '1'],
    ['Content-Length', 'abc'],
    ['Content-Length', '-1'],
  ] as const).map(([name, value]) => ({
    name: 'wire:conflicting-framing',
    statuses: [400],
    change: (r: RawRequest) => ({
      ...r,
      headers: [
        ...r.headers.filter(([n]) => n !== 'Content-Length'),
        ['Content-Length', '5'] as const,
        [name, value] as const,
      ],
    }),
  })),
);

/** Puts a draft on the wire: Host first, then noise and the request's own headers, framing last. */
function finalize(d: Draft, target: HostileTarget): HostileRequest {
  const headers: [string, string][] = [['Host', '127.0.0.1'], ...d.headers];
  if (d.contentType !== undefined) headers.push(['Content-Type', d.contentType]);
  const signature = d.signing
    ? signatureFor(d.signing, d.body ?? '', target.webhookSecret, target.nowSeconds)
    : undefined;
  if (signature !== undefined) headers.push(['Stripe-Signature', signature]);
  if (d.body !== undefined) headers.push(['Content-Length', String(d.body.length)]);
  headers.push(['Connection', 'close']);
  const statuses = new Set(d.statuses);
  if ((d.body?.length ?? 0) > BODY_LIMIT) statuses.add(413);
  const head = headers.reduce(
    (size, [name, value]) => size + name.length + value.length + 4,
    d.path.length + d.query.length + 16,
  );
  if (head > MAX_HEAD_BYTES - 1024) statuses.add(431);
  // A body over the limit or of another type, or a signature that does not verify, is refused whatever it holds.
  const refused =
    statuses.has(413) || statuses.has(415) || (d.signing !== undefined && d.signing.kind !== 'valid');
  if (refused) statuses.delete(200);
  return {
    endpoint: d.endpoint,
    attacks: d.attacks,
    method: d.method,
    target: `${d.path}${d.query}`,
    headers,
    ...(d.body === undefined ? {} : { body: d.body }),
    expected: [...statuses].sort(),
    ...(d.signedEventId && !refused ? { signedEventId: d.signedEventId } : {}),
  };
}

/** Breaks a finished request on the wire: the parser refuses it before any route sees it. */
function onTheWire(request: HostileRequest, wire: WireAttack): HostileRequest {
  const changed = wire.change(request);
  return {
    ...request,
    ...changed,
    attacks: [...request.attacks, wire.name],
    expected: wire.statuses,
    signedEventId: undefined,
  };
}

/**
 * Hostile requests to every public endpoint, weighted so that each gets its share; about one in
 * twelve is also broken on the wire.
 */
export function hostileRequests(target: HostileTarget): fc.Arbitrary<HostileRequest> {
  if (new Set(target.orders.map((o) => o.customerId)).size < 2)
    throw new Error('hostileRequests needs orders of two customers');
  const drafts = fc.oneof(
    { arbitrary: placeOrder(target), weight: 6 },
    { arbitrary: cancelOrder(target), weight: 4 },
    { arbitrary: getOrder(target), weight: 2 },
    ...readRoutes(target).map((arbitrary) => ({ arbitrary, weight: 1 })),
    { arbitrary: webhook(), weight: 6 },
    ...adminRoutes(target).map((arbitrary) => ({ arbitrary, weight: 2 })),
    { arbitrary: oddPaths(), weight: 2 },
    { arbitrary: wrongMethods(target), weight: 1 },
  );
  return fc.tuple(drafts, sometimes(WIRE_ATTACKS, 12)).map(([d, wire]) => {
    const request = finalize(d, target);
    return wire ? onTheWire(request, wire) : request;
  });
}

/** `count` requests, the same for the same seed (signatures aside, which are made for `target.nowSeconds`). */
export function sampleHostileRequests(
  target: HostileTarget,
  options: { seed: number; count: number },
): HostileRequest[] {
  return fc.sample(hostileRequests(target), { seed: options.seed, numRuns: options.count });
}
