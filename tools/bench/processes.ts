// Which processes make up the system under test: our service processes (the pids TestSystem
// started) and the infrastructure, found by the port each component listens on.
import type { TestSystem } from '@oms/testing';
import { stackAddresses } from '@oms/testing';
import { commandLine, listeningPid, processName } from './proc';

export interface ProcessGroup {
  label: string;
  kind: 'service' | 'infra' | 'ceiling';
  /** The process; with `tree`, it and every process below it (PostgreSQL's backends, Erlang's helpers). */
  pid: number;
  tree: boolean;
}

/** One group per service instance TestSystem started: `order`, or `order#2` for a second one. */
export function serviceGroups(system: TestSystem): ProcessGroup[] {
  const seen = new Map<string, number>();
  return system.instances
    .filter((i) => i.process.exitCode === null && i.process.signalCode === null)
    .map((instance) => {
      const n = (seen.get(instance.name) ?? 0) + 1;
      seen.set(instance.name, n);
      return {
        label: n === 1 ? instance.name : `${instance.name}#${n}`,
        kind: 'service' as const,
        pid: instance.pid,
        tree: false,
      };
    });
}

const portOf = (url: string, fallback: number) => {
  const parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  return parsed.port ? Number(parsed.port) : fallback;
};

/** The port a libpq URL names: its `port` parameter (a Unix-socket URL has no host) or its host's. */
const postgresPortOf = (url: string) => {
  const parameter = /[?&]port=(\d+)/.exec(url)?.[1];
  return parameter ? Number(parameter) : portOf(url.replace(/^postgres(ql)?:\/\//, 'http://'), 5432);
};

export interface Infrastructure {
  groups: ProcessGroup[];
  /** The MongoDB-wire server's process name: `ferretdb`, `mongod`, … */
  databaseServer?: string;
  /** FerretDB's debug listener (`--debug-addr`), when it has one. */
  ferretDebugAddress?: string;
  /** Components whose process could not be found (elsewhere, or not ours to inspect). */
  missing: string[];
}

/**
 * The stack's processes at the addresses the services use (tools/stack's defaults unless the
 * environment points elsewhere). PostgreSQL is the cluster FerretDB's `--postgresql-url` names,
 * counted as its postmaster and every backend below it.
 */
export async function findInfrastructure(): Promise<Infrastructure> {
  const a = await stackAddresses();
  const found: Infrastructure = { groups: [], missing: [] };
  const add = (label: string, port: number, tree: boolean) => {
    const pid = listeningPid(port);
    if (pid === undefined) found.missing.push(`${label} (port ${port})`);
    else found.groups.push({ label, kind: 'infra', pid, tree });
    return pid;
  };

  const mongoPort = portOf(a.MONGO_URL!.replace(/^mongodb(\+srv)?:\/\//, 'http://'), 27017);
  const dbPid = listeningPid(mongoPort);
  if (dbPid === undefined) found.missing.push(`database (port ${mongoPort})`);
  else {
    const args = commandLine(dbPid);
    // the kernel's name is cut at 15 characters
    const name = databaseServerName(args[0]?.split('/').pop() ?? processName(dbPid) ?? 'database');
    found.databaseServer = name;
    found.groups.push({ label: name, kind: 'infra', pid: dbPid, tree: true });
    const flag = (prefix: string) => args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
    const debug = flag('--debug-addr=');
    if (debug && debug !== '-') found.ferretDebugAddress = debug;
    const postgresUrl = flag('--postgresql-url=');
    if (postgresUrl) add('postgres', postgresPortOf(postgresUrl), true);
  }
  add('rabbitmq', portOf(a.AMQP_URL!.replace(/^amqps?:\/\//, 'http://'), 5672), true);
  add('consul', portOf(a.CONSUL_URL!, 8500), false);
  add('jaeger', portOf(a.OTEL_EXPORTER_OTLP_ENDPOINT!, 4317), false);
  add('stripe-mock', portOf(a.STRIPE_API_URL!, 12111), false);
  return found;
}

/** `ferretdb` for ferretdb-v1.24.2-lean-keys (a version and build labels dropped), `mongod` for mongod. */
export function databaseServerName(executable: string): string {
  return executable.replace(/-v?\d[\w.]*(-[\w.]+)*$/, '');
}
