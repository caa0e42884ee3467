/**
 * Sends hostile requests (hostile-requests.ts) to a gateway and judges every answer against the
 * contract: one of the request's right statuses, never a 5xx, and for an error the envelope of
 * HTTP-API.md with a code that belongs to its status.
 */
import type { HostileRequest } from './hostile-requests';
import { sendRawRequest, type RawAnswer } from './raw-http';

/** The codes each error status may carry: HTTP-API.md, and the transport-level answers in the OpenAPI document. */
export const HOSTILE_ERROR_CODES: Readonly<Record<number, readonly string[]>> = {
  400: ['invalid_argument', 'invalid_json', 'invalid_signature'],
  401: ['unauthenticated'],
  404: ['not_found'],
  408: ['request_timeout'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  431: ['headers_too_large'],
};

const JSON_TYPE = 'application/json; charset=utf-8';

/** What is wrong with `answer` as an answer to `request`, or undefined when it is right. */
export function checkHostileAnswer(request: HostileRequest, answer: RawAnswer): string | undefined {
  if (answer.status >= 500) return `server error ${answer.status}`;
  if (!request.expected.includes(answer.status)) {
    return `status ${answer.status}, expected one of ${request.expected.join(', ')}`;
  }
  if (!answer.headers['x-request-id']) return 'no x-request-id header';
  if (!answer.headers.traceparent) return 'no traceparent header';
  if (answer.headers['content-type'] !== JSON_TYPE) return `content-type ${answer.headers['content-type']}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  return answer.status >= 400 ? envelopeProblem(answer.status, body) : undefined;
}

function envelopeProblem(status: number, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Object.keys(body).join() !== 'error') {
    return 'the body is not {"error": {...}}';
  }
  const { code, message, details, ...rest } = (body as { error: Record<string, unknown> }).error;
  if (Object.keys(rest).length > 0) return `unexpected fields in error: ${Object.keys(rest).join(', ')}`;
  if (typeof code !== 'string' || !HOSTILE_ERROR_CODES[status]?.includes(code)) {
    return `error code ${JSON.stringify(code)} is not one of status ${status}'s`;
  }
  if (typeof message !== 'string' || message === '') return 'error.message is not a non-empty string';
  if (
    details !== undefined &&
    !(Array.isArray(details) && details.every((d) => typeof d === 'object' && d))
  ) {
    return 'error.details is not a list of objects';
  }
  return undefined;
}

export interface HostileFailure {
  index: number;
  request: HostileRequest;
  problem: string;
  status?: number;
  body?: string;
}

export interface HostileRunSummary {
  sent: number;
  byStatus: Record<number, number>;
  /** Per endpoint, how many of each status. */
  byEndpoint: Record<string, Record<number, number>>;
  failures: HostileFailure[];
  /** Validly signed events the gateway accepted (200): the payment service may have recorded these. */
  acceptedEventIds: string[];
  durationMs: number;
}

const count = (counts: Record<number, number>, status: number) => {
  counts[status] = (counts[status] ?? 0) + 1;
};

/** Sends every request, `concurrency` at a time, each on its own connection, and judges each answer. */
export async function runHostileRequests(
  address: { host: string; port: number },
  requests: readonly HostileRequest[],
  options: { concurrency?: number; timeoutMs?: number } = {},
): Promise<HostileRunSummary> {
  const started = Date.now();
  const summary: HostileRunSummary = {
    sent: 0,
    byStatus: {},
    byEndpoint: {},
    failures: [],
    acceptedEventIds: [],
    durationMs: 0,
  };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      const request = requests[index]!;
      summary.sent++;
      let answer: RawAnswer;
      try {
        answer = await sendRawRequest(address, request, options.timeoutMs);
      } catch (error) {
        summary.failures.push({ index, request, problem: `no answer: ${(error as Error).message}` });
        continue;
      }
      count(summary.byStatus, answer.status);
      count((summary.byEndpoint[request.endpoint] ??= {}), answer.status);
      if (answer.status === 200 && request.signedEventId)
        summary.acceptedEventIds.push(request.signedEventId);
      const problem = checkHostileAnswer(request, answer);
      if (problem) {
        summary.failures.push({
          index,
          request,
          problem,
          status: answer.status,
          body: answer.body.toString('utf8', 0, 500),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 24 }, worker));
  summary.durationMs = Date.now() - started;
  return summary;
}

const clip = (text: string, length = 300) =>
  text.length > length ? `${text.slice(0, length)}…(${text.length} bytes)` : text;

/** One line that reproduces the request by hand (strings are latin1: \u00XX escapes are raw bytes). */
export function describeHostileRequest(request: HostileRequest): string {
  return JSON.stringify({
    endpoint: request.endpoint,
    attacks: request.attacks,
    expected: request.expected,
    request: `${request.method} ${clip(request.target, 200)}`,
    headers: request.headers.map(([name, value]) => `${name}: ${clip(value, 120)}`),
    ...(request.body === undefined ? {} : { body: clip(request.body) }),
  });
}
