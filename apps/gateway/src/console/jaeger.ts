/** An order's traces from Jaeger's query API (the same API Jaeger's own UI reads), as waterfalls. */

export interface SpanJson {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  operation: string;
  /** From the start of the trace. */
  startMs: number;
  durationMs: number;
  error: boolean;
  attributes: Record<string, string>;
}

export interface TraceJson {
  traceId: string;
  startedAt: string;
  durationMs: number;
  rootService: string;
  rootOperation: string;
  errorCount: number;
  spans: SpanJson[];
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: { key: string; value: unknown }[];
  processID: string;
}

interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const isJaegerTrace = (value: unknown): value is JaegerTrace => {
  const trace = value as Partial<JaegerTrace> | null;
  return (
    typeof trace?.traceID === 'string' && Array.isArray(trace.spans) && typeof trace.processes === 'object'
  );
};

/** The services whose spans carry `order.id`: the gateway's requests, and the order service's own work. */
const SEARCHED_SERVICES = ['gateway', 'order'];
const LOOKBACK_MS = 7 * 24 * 3_600_000;
const QUERY_TIMEOUT_MS = 5000;

/** Jaeger's search for one order: spans tagged `order.id`, in any trace of these services. */
export function jaegerSearchQuery(orderId: string, service = 'gateway'): string {
  return new URLSearchParams({ service, tags: JSON.stringify({ 'order.id': orderId }) }).toString();
}

/** Every trace that has a span tagged with the order, oldest first, each span placed in time. */
export async function orderTraces(queryUrl: string, orderId: string, limit = 50): Promise<TraceJson[]> {
  const end = Date.now() * 1000;
  const found = new Map<string, JaegerTrace>();
  for (const service of SEARCHED_SERVICES) {
    const query = `${jaegerSearchQuery(orderId, service)}&limit=${limit}&start=${end - LOOKBACK_MS * 1000}&end=${end}`;
    const response = await fetch(`${queryUrl.replace(/\/+$/, '')}/api/traces?${query}`, {
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`Jaeger answered ${response.status} to a trace search`);
    const body = (await response.json()) as { data?: unknown };
    for (const trace of Array.isArray(body.data) ? body.data : [])
      if (isJaegerTrace(trace) && trace.spans.length > 0) found.set(trace.traceID, trace);
  }
  return [...found.values()].map(toTraceJson).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function toTraceJson(trace: JaegerTrace): TraceJson {
  const spans = [...trace.spans].sort((a, b) => a.startTime - b.startTime);
  const start = spans[0]!.startTime;
  const end = Math.max(...spans.map((span) => span.startTime + span.duration));
  const ids = new Set(spans.map((span) => span.spanID));
  const json = spans.map((span): SpanJson => {
    const parent = span.references?.find((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID));
    const attributes = Object.fromEntries((span.tags ?? []).map(({ key, value }) => [key, String(value)]));
    return {
      spanId: span.spanID,
      parentSpanId: parent?.spanID ?? null,
      service: trace.processes[span.processID]?.serviceName ?? '?',
      operation: span.operationName,
      startMs: (span.startTime - start) / 1000,
      durationMs: span.duration / 1000,
      error: attributes.error === 'true' || attributes['otel.status_code'] === 'ERROR',
      attributes,
    };
  });
  const root = json.find((span) => span.parentSpanId === null) ?? json[0]!;
  return {
    traceId: trace.traceID,
    startedAt: new Date(start / 1000).toISOString(),
    durationMs: (end - start) / 1000,
    rootService: root.service,
    rootOperation: root.operation,
    errorCount: json.filter((span) => span.error).length,
    spans: json,
  };
}

/** The placeholder page a Jaeger built without its UI assets serves instead of the UI. */
const PLACEHOLDER_MARK = 'This is not the Jaeger UI you are looking for';

/**
 * Where Jaeger's own UI is, if anywhere: the configured URL, else the query service itself when
 * it serves the real UI (a Jaeger built from the Go module serves only a placeholder page).
 */
export async function jaegerUiUrl(configured: string, queryUrl: string): Promise<string | null> {
  if (configured) return configured.replace(/\/+$/, '');
  try {
    const response = await fetch(`${queryUrl.replace(/\/+$/, '')}/search`, {
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    });
    const page = await response.text();
    return response.ok && !page.includes(PLACEHOLDER_MARK) ? queryUrl.replace(/\/+$/, '') : null;
  } catch {
    return null;
  }
}
