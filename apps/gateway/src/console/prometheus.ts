/** The few figures the console shows of a service's Prometheus `/metrics`, and how they are read. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Prometheus text exposition format, samples only (comments, types and timestamps are skipped). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL))
      labels[name!] = value!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    const value = Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The counters a window is computed from, as read at one moment. */
export interface RequestCounters {
  at: number;
  /** When the process started (ms), from prom-client's process_start_time_seconds. */
  startedAt?: number;
  requests: number;
  errors: number;
  /** Cumulative latency histogram of every method/route: upper bound (s) → count. */
  buckets: Map<number, number>;
}

export interface InstanceFigures {
  /** Requests per second over the window. */
  rate: number;
  /** Share of requests that failed on the server's side (0..1); null without requests. */
  errorRate: number | null;
  /** 99th percentile latency in ms (bucket interpolation); null without requests. */
  p99Ms: number | null;
  windowSeconds: number;
}

/** gRPC codes that are answers (the caller's mistake or a business refusal), not failures of the service. */
const ANSWER_CODES = new Set([
  'OK',
  'CANCELLED',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNAUTHENTICATED',
]);

/** gRPC services count `oms_rpc_server_*`; the gateway counts `oms_http_*` (5xx are its errors). */
export function requestCounters(samples: Sample[], at: number): RequestCounters {
  const grpc = samples.some((sample) => sample.name === 'oms_rpc_server_requests_total');
  const counter = grpc ? 'oms_rpc_server_requests_total' : 'oms_http_requests_total';
  const bucket = grpc ? 'oms_rpc_server_duration_seconds_bucket' : 'oms_http_request_duration_seconds_bucket';
  const isError = (labels: Record<string, string>) =>
    grpc ? !ANSWER_CODES.has(labels.code ?? '') : Number(labels.status) >= 500;
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const { name, labels, value } of samples) {
    if (name === counter) {
      requests += value;
      if (isError(labels)) errors += value;
    } else if (name === bucket) {
      const bound = labels.le === '+Inf' ? Infinity : Number(labels.le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    }
  }
  const started = samples.find((sample) => sample.name === 'process_start_time_seconds');
  return { at, startedAt: started ? started.value * 1000 : undefined, requests, errors, buckets };
}

/** Figures between two readings (or since the start of the process, without an earlier one). */
export function figuresBetween(
  earlier: RequestCounters | undefined,
  later: RequestCounters,
): InstanceFigures {
  const base = earlier ?? {
    at: later.startedAt ?? later.at,
    requests: 0,
    errors: 0,
    buckets: new Map<number, number>(),
  };
  const requests = later.requests - base.requests;
  const windowSeconds = Math.max((later.at - base.at) / 1000, 0);
  const buckets = [...later.buckets]
    .map(([bound, count]): [number, number] => [bound, count - (base.buckets.get(bound) ?? 0)])
    .sort(([a], [b]) => a - b);
  return {
    rate: windowSeconds > 0 ? requests / windowSeconds : 0,
    errorRate: requests > 0 ? (later.errors - base.errors) / requests : null,
    p99Ms: quantileMs(buckets, 0.99),
    windowSeconds,
  };
}

/** Prometheus' histogram_quantile: linear within the bucket the rank falls in. */
export function quantileMs(cumulative: [number, number][], q: number): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of cumulative) {
    if (count >= rank) {
      // Past the last finite bucket the best answer is that bound.
      if (bound === Infinity) return lowerBound * 1000;
      const share = count === lowerCount ? 1 : (rank - lowerCount) / (count - lowerCount);
      return (lowerBound + (bound - lowerBound) * share) * 1000;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound * 1000;
}

/** Circuit breakers by target: `oms_rpc_client_breaker_state` (0 closed, 1 half-open, 2 open, 3 isolated). */
export function breakerStates(samples: Sample[]): { target: string; state: string }[] {
  const names = ['closed', 'half_open', 'open', 'isolated'];
  return samples
    .filter((sample) => sample.name === 'oms_rpc_client_breaker_state')
    .map(({ labels, value }) => ({ target: labels.target ?? '?', state: names[value] ?? 'unknown' }))
    .sort((a, b) => a.target.localeCompare(b.target));
}
