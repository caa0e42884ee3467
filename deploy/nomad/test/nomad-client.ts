import { resolve } from 'node:path';
import { runCommand } from '../../test/tools';

export const JOB_FILE = resolve(__dirname, '../oms.nomad.hcl');
export const JOB = 'oms';

export interface Allocation {
  ID: string;
  TaskGroup: string;
  JobVersion: number;
  ClientStatus: string;
  DesiredStatus: string;
  TaskStates?: Record<string, { State: string; Restarts: number; Failed: boolean }>;
}

/** The Nomad CLI and HTTP API of one agent. */
export class NomadClient {
  constructor(
    private readonly binary: string,
    readonly address: string,
  ) {}

  /** Runs the CLI; a non-zero exit is an error carrying its output. */
  cli(...args: string[]): string {
    const result = runCommand(this.binary, args, { env: { ...process.env, NOMAD_ADDR: this.address } });
    if (result.status !== 0)
      throw new Error(`nomad ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.address}${path}`);
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** The job's current version, or undefined before it exists. */
  async jobVersion(): Promise<number | undefined> {
    const response = await fetch(`${this.address}/v1/job/${JOB}`);
    if (response.status === 404) return undefined;
    return ((await response.json()) as { Version: number }).Version;
  }

  /** True once the deployment of `version` succeeded; throws if it failed. */
  async deploymentSucceeded(version: number): Promise<boolean> {
    const deployment = await this.get<{
      JobVersion: number;
      Status: string;
      StatusDescription: string;
    } | null>(`/v1/job/${JOB}/deployment`);
    if (!deployment || deployment.JobVersion !== version) return false;
    if (['failed', 'cancelled'].includes(deployment.Status))
      throw new Error(
        `deployment of version ${version} ${deployment.Status}: ${deployment.StatusDescription}`,
      );
    return deployment.Status === 'successful';
  }

  /** True when no allocation of the job is pending or running any more. */
  async allStopped(): Promise<boolean> {
    const allocations = await this.get<Allocation[]>(`/v1/job/${JOB}/allocations`);
    return allocations.every((a) => !['pending', 'running'].includes(a.ClientStatus));
  }

  async runningAllocations(group: string): Promise<Allocation[]> {
    const allocations = await this.get<Allocation[]>(`/v1/job/${JOB}/allocations`);
    return allocations.filter(
      (a) => a.TaskGroup === group && a.ClientStatus === 'running' && a.DesiredStatus === 'run',
    );
  }
}
