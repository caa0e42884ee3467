/**
 * The gateway's API, typed by the OpenAPI document it serves (src/generated/gateway-api.ts, from
 * openapi-typescript). Every call carries the admin token the person signed in with; it lives in
 * sessionStorage, so it is gone when the tab is closed.
 */
import type { components, paths } from './generated/gateway-api';

export type Order = components['schemas']['Order'];
export type OrderStatus = Order['status'];

type Method = 'get' | 'post' | 'put';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The body of the operation's success answer (200 or 201). */
export type Answer<P extends keyof paths, M extends Method = 'get'> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer Ok }
      ? JsonOf<Ok>
      : R extends { 201: infer Created }
        ? JsonOf<Created>
        : never
    : never;
type PathParams<Op> = Op extends { parameters: { path: infer Params } } ? Params : never;
type QueryOf<Op> = Op extends { parameters: { query?: infer Query } } ? Query : never;
type BodyOf<Op> = Op extends { requestBody?: { content: { 'application/json': infer Body } } } ? Body : never;

interface CallOptions<Op> {
  params?: PathParams<Op>;
  query?: QueryOf<Op>;
  body?: BodyOf<Op>;
}

/** An error answer of the gateway: `{"error": {"code", "message"}}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'oms-console-token';
let onUnauthorized: () => void = () => undefined;

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  /** What happens when the gateway refuses the token (it changed, or the tab's token is wrong). */
  onUnauthorized: (handler: () => void) => {
    onUnauthorized = handler;
  },
};

const fill = (path: string, params: object | undefined) =>
  path.replace(/\{(\w+)\}/g, (_match, name: string) =>
    encodeURIComponent(String((params as Record<string, unknown> | undefined)?.[name] ?? '')),
  );

/** One call of the gateway's API, typed end to end by the path and method. */
export async function call<P extends keyof paths, M extends Method>(
  method: M,
  path: P,
  options: CallOptions<Operation<P, M>> = {},
  token: string | null = session.token(),
): Promise<Answer<P, M>> {
  const query = options.query
    ? `?${new URLSearchParams(Object.entries(options.query).map(([key, value]) => [key, String(value)]))}`
    : '';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${fill(path, options.params)}${query}`, {
    method: method.toUpperCase(),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? response.statusText);
  }
  return body as Answer<P, M>;
}

export const describeError = (error: unknown): string =>
  error instanceof ApiError
    ? `${error.message} (${error.status} ${error.code})`
    : error instanceof Error
      ? error.message
      : String(error);
