/** One answer of the gateway; status 0 when none came (refused, reset, timed out). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T | undefined;
  retryAfterMs?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

export async function call<T = Record<string, unknown>>(
  url: string,
  init: { method: string; body?: string; headers?: Record<string, string> },
): Promise<Answer<T>> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    const retryAfter = Number(response.headers.get('retry-after'));
    let body: T | undefined;
    try {
      body = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body, retryAfterMs: retryAfter > 0 ? retryAfter * 1000 : undefined };
  } catch {
    return { status: 0, body: undefined };
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a client should try the same request again: no answer, overload or a server error. */
export const worthRetrying = (status: number) => status === 0 || status === 429 || status >= 500;
