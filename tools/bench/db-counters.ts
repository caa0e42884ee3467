// The database server's own count of the commands it ran, by command name.
// - FerretDB: `ferretdb_client_requests_total{command,opcode}` from its debug endpoint
//   (Prometheus text), as ../shared/measure/db-commands-per.sh reads it.
// - MongoDB: serverStatus().metrics.commands (per command; opcounters only group them), through
//   the driver. Our own serverStatus calls are left out.
import { MongoClient } from 'mongodb';

export type CommandCounts = Record<string, number>;

export interface CommandCounter {
  /** What the counts come from, for the report. */
  source: string;
  read(): Promise<CommandCounts>;
  close(): Promise<void>;
}

/** Sums `ferretdb_client_requests_total` by its `command` label (over every opcode). */
export function parseFerretMetrics(text: string): CommandCounts {
  const counts: CommandCounts = {};
  for (const line of text.split('\n')) {
    const match = /^ferretdb_client_requests_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const command = /(?:^|,)command="([^"]*)"/.exec(match[1]!)?.[1];
    if (command === undefined) continue;
    counts[command] = (counts[command] ?? 0) + Number(match[2]);
  }
  return counts;
}

/** `metrics.commands` of serverStatus, flattened to command → total. */
export function parseServerStatusCommands(commands: Record<string, unknown>): CommandCounts {
  const counts: CommandCounts = {};
  for (const [name, value] of Object.entries(commands ?? {})) {
    const total = (value as { total?: unknown } | null)?.total;
    if (total !== undefined && name !== 'serverStatus') counts[name] = Number(total);
  }
  return counts;
}

/** after − before per command; commands that did not move are left out. */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = {};
  for (const [name, value] of Object.entries(after)) {
    const d = value - (before[name] ?? 0);
    if (d !== 0) delta[name] = d;
  }
  return delta;
}

export const totalOf = (counts: CommandCounts) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Commands per operation: (measured − idle × measuredSeconds / idleSeconds) / operations, per
 * command, so the background polling that would have happened anyway is not charged to the work.
 */
export function perOperation(
  measured: CommandCounts,
  idle: CommandCounts,
  scale: number,
  operations: number,
): CommandCounts {
  const names = new Set([...Object.keys(measured), ...Object.keys(idle)]);
  const per: CommandCounts = {};
  for (const name of names) {
    per[name] = ((measured[name] ?? 0) - (idle[name] ?? 0) * scale) / Math.max(operations, 1);
  }
  return per;
}

async function ferretCounter(debugAddress: string): Promise<CommandCounter> {
  const url = `http://${debugAddress}/debug/metrics`;
  const read = async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const counts = parseFerretMetrics(await response.text());
    if (Object.keys(counts).length === 0) throw new Error(`${url} has no ferretdb_client_requests_total`);
    return counts;
  };
  await read();
  return { source: `FerretDB ${url} (ferretdb_client_requests_total)`, read, close: async () => {} };
}

async function mongoCounter(mongoUrl: string): Promise<CommandCounter> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000, maxPoolSize: 1 });
  await client.connect();
  const admin = client.db('admin');
  const read = async () => {
    const status = await admin.command({ serverStatus: 1 });
    return parseServerStatusCommands((status.metrics as { commands: Record<string, unknown> }).commands);
  };
  await read();
  return {
    source: 'MongoDB serverStatus().metrics.commands (its own serverStatus calls excluded)',
    read,
    close: () => client.close(),
  };
}

/**
 * The counter for the server at `mongoUrl`: FerretDB's debug endpoint when the server is FerretDB
 * (`debugAddress` from its command line, else BENCH_FERRETDB_DEBUG or 127.0.0.1:8088), else
 * serverStatus.
 */
export async function openCommandCounter(options: {
  mongoUrl: string;
  server?: string;
  debugAddress?: string;
}): Promise<CommandCounter> {
  let isFerret = options.server === 'ferretdb';
  if (options.server === undefined) {
    const client = new MongoClient(options.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    try {
      const info = await client.db('admin').command({ buildInfo: 1 });
      isFerret = 'ferretdbVersion' in info || 'ferretdbFeatures' in info;
    } finally {
      await client.close();
    }
  }
  if (!isFerret) return mongoCounter(options.mongoUrl);
  const address = process.env.BENCH_FERRETDB_DEBUG ?? options.debugAddress ?? '127.0.0.1:8088';
  try {
    return await ferretCounter(address);
  } catch (error) {
    throw new Error(
      `FerretDB's command counters are not readable at ${address} (${(error as Error).message}); ` +
        'start FerretDB with --debug-addr, or set BENCH_FERRETDB_DEBUG=host:port',
      { cause: error },
    );
  }
}
