// Process plumbing for the local stack: detached spawning, pid files, stopping, the lock.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` until it returns a truthy value or the deadline passes; returns that value or undefined. */
export async function pollUntil(check, { timeoutMs, intervalMs = 250, shouldAbort } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    const abort = shouldAbort?.();
    if (abort) throw abort instanceof Error ? abort : new Error(String(abort));
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // a zombie still answers kill(0); it is not running anything
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** True when `pid` is alive and still runs something whose command line mentions `marker` (guards against pid reuse). */
export function isOurProcess(pid, marker) {
  if (!isAlive(pid)) return false;
  const argv = commandLine(pid);
  if (argv.length === 0) return true; // no /proc (not Linux): trust the pid
  return argv.some((arg) => arg.includes(marker));
}

export function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `command` in its own process group with stdout/stderr appended to `logFile`, so it
 * survives this process exiting; as `account` ({ uid, gid }) when given (root starting PostgreSQL).
 * Returns the child; `child.exitInfo` is set once it exits.
 */
export function spawnDetached(command, args, { logFile, env, cwd, account }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n--- ${new Date().toISOString()} starting: ${[command, ...args].join(' ')}\n`);
  let child;
  try {
    child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
  } finally {
    fs.closeSync(fd);
  }
  child.exitInfo = undefined;
  child.on('error', (error) => {
    child.exitInfo = { error };
  });
  child.on('exit', (code, signal) => {
    child.exitInfo = { code, signal };
  });
  child.unref();
  return child;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal); // the whole process group: the component and any helper it forked
    return;
  } catch {
    /* not a group leader: fall through to the pid itself */
  }
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * `signal` (SIGTERM unless told; PostgreSQL's fast shutdown is SIGINT), wait up to `graceMs`, then
 * SIGKILL. Resolves to 'stopped' | 'killed' | 'gone'.
 */
export async function stopProcess(pid, { graceMs = 15_000, signal = 'SIGTERM' } = {}) {
  if (!isAlive(pid)) return 'gone';
  signalGroup(pid, signal);
  if (await pollUntil(() => !isAlive(pid), { timeoutMs: graceMs, intervalMs: 100 })) return 'stopped';
  signalGroup(pid, 'SIGKILL');
  await pollUntil(() => !isAlive(pid), { timeoutMs: 5_000, intervalMs: 100 });
  return 'killed';
}

export function tailFile(file, lines = 15) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * A cross-process lock: `mkdir` is atomic. The owner's pid is written inside; a lock whose owner
 * is dead (or that never got an owner written within a few seconds) is stale and is taken over.
 */
export async function whileHoldingDirLock(lockDir, { timeoutMs, onWait } = {}, fn) {
  const ownerFile = path.join(lockDir, 'owner');
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(ownerFile, `${process.pid}\n`);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = readPid(ownerFile);
    let stale = owner !== undefined && !isAlive(owner);
    if (owner === undefined) {
      try {
        stale = Date.now() - fs.statSync(lockDir).mtimeMs > 5_000;
      } catch {
        continue; // vanished between mkdir and stat: retry at once
      }
    }
    if (stale) {
      // rename first so that two waiters cannot both remove the lock and both take it
      const grave = `${lockDir}.stale-${process.pid}-${Date.now()}`;
      try {
        fs.renameSync(lockDir, grave);
        fs.rmSync(grave, { recursive: true, force: true });
      } catch {
        /* someone else cleared it */
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out waiting for the stack lock ${lockDir} (held by pid ${owner ?? 'unknown'})`);
    }
    if (!announced) {
      announced = true;
      onWait?.(owner);
    }
    await sleep(200);
  }
  const release = () => {
    if (readPid(ownerFile) === process.pid) fs.rmSync(lockDir, { recursive: true, force: true });
  };
  process.once('exit', release);
  try {
    return await fn();
  } finally {
    process.removeListener('exit', release);
    release();
  }
}
