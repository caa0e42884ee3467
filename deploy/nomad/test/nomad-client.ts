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
  TaskStates?: Record<
    string,
    {
      State: string;
      Restarts: number;
      Failed: boolean;
      Events?: { Type: string; DisplayMessage: string }[];
    }
  >;
  DeploymentStatus?: { Healthy?: boolean | null };
}

interface Deployment {
  JobVersion: number;
  Status: string;
  StatusDescription: string;
  TaskGroups?: Record<
    string,
    { DesiredTotal: number; PlacedAllocs: number; HealthyAllocs: number; UnhealthyAllocs: number }
  >;
}

interface Evaluation {
  ID: string;
  Status: string;
  FailedTGAllocs?: Record<
    string,
    { DimensionExhausted?: Record<string, number>; ConstraintFiltered?: Record<string, number> }
  > | null;
}

/** The Nomad CLI and HTTP API of one agent. */
export class NomadClient {
  constructor(
    private readonly binary: string,
    readonly address: string,
  ) {}

  /** Runs the CLI against this agent, whatever its exit. */
  private run(args: string[]) {
    return runCommand(this.binary, args, { env: { ...process.env, NOMAD_ADDR: this.address } });
  }

  /** Runs the CLI; a non-zero exit is an error carrying its output. */
  cli(...args: string[]): string {
    const result = this.run(args);
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

  /** How the deployment of `version` ended, or undefined while it runs (or before it exists). */
  async deploymentOutcome(version: number): Promise<'successful' | 'failed' | 'cancelled' | undefined> {
    const deployment = await this.get<Deployment | null>(`/v1/job/${JOB}/deployment`);
    if (!deployment || deployment.JobVersion !== version) return undefined;
    const { Status } = deployment;
    return Status === 'successful' || Status === 'failed' || Status === 'cancelled' ? Status : undefined;
  }

  /**
   * What a deployment that does not finish is waiting for, to print when a test gives up on it:
   * each group's placed and healthy counts, placements the scheduler could not make, and each
   * allocation not yet healthy with its tasks' last events and the end of their stderr.
   */
  async deploymentReport(): Promise<string> {
    const lines: string[] = [];
    const deployment = await this.get<Deployment | null>(`/v1/job/${JOB}/deployment`);
    if (deployment) {
      const groups = Object.entries(deployment.TaskGroups ?? {}).map(
        ([group, g]) =>
          `${group} ${g.HealthyAllocs}/${g.DesiredTotal} healthy (${g.PlacedAllocs} placed, ${g.UnhealthyAllocs} unhealthy)`,
      );
      lines.push(`deployment of version ${deployment.JobVersion} ${deployment.Status}: ${groups.join(', ')}`);
    }
    for (const evaluation of await this.get<Evaluation[]>(`/v1/job/${JOB}/evaluations`)) {
      for (const [group, failure] of Object.entries(evaluation.FailedTGAllocs ?? {}))
        lines.push(
          `evaluation ${evaluation.ID.slice(0, 8)} (${evaluation.Status}) could not place ${group}: ${JSON.stringify(failure)}`,
        );
    }
    const allocations = await this.get<Allocation[]>(`/v1/job/${JOB}/allocations`);
    const restarts = (a: Allocation) =>
      Object.values(a.TaskStates ?? {}).reduce((sum, state) => sum + state.Restarts, 0);
    const waiting = allocations
      .filter((a) => a.DeploymentStatus?.Healthy !== true)
      .sort((a, b) => restarts(b) - restarts(a));
    for (const allocation of waiting) {
      lines.push(
        `allocation ${allocation.ID.slice(0, 8)} ${allocation.TaskGroup} v${allocation.JobVersion}: ${allocation.ClientStatus}/${allocation.DesiredStatus}`,
      );
      for (const [task, state] of Object.entries(allocation.TaskStates ?? {})) {
        const events = (state.Events ?? []).slice(-4).map((e) => `${e.Type}: ${e.DisplayMessage}`);
        lines.push(`  ${task} ${state.State}, ${state.Restarts} restarts; ${events.join(' | ')}`);
        // a task that never started has no log: the command fails, and there is nothing to add
        const stderr = this.run([
          'alloc',
          'logs',
          '-stderr',
          '-tail',
          '-n',
          '15',
          allocation.ID,
          task,
        ]).stdout;
        for (const line of stderr.trimEnd().split('\n').filter(Boolean)) lines.push(`    ${line}`);
      }
    }
    return lines.join('\n');
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
