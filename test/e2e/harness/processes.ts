// Every process the harness starts runs in its own process group, and every group is stopped: after each session,
// when the run ends, when a test fails, and when the run is interrupted. code-server leaves helpers (an agent host, a
// pty host, extension hosts) that outlive its main process, so we reap whole groups and verify from /proc.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';

interface Group {
  pgid: number;
  label: string;
}

const groups = new Map<number, Group>();
const tempDirs = new Set<string>();

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  label: string;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or the signal's name) of the group leader. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Starts `command` as the leader of a new process group and tracks the group until it is empty. */
export function startGroup(command: string, args: readonly string[], options: StartOptions): Started {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    };
    child = spawn(command, args, spawnOptions);
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  exited.catch(() => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command} (${options.label})`);
  groups.set(pid, { pgid: pid, label: options.label });
  return { child, pid, exited, stop: () => stopGroup(pid) };
}

/** Tracks a group started by someone else (Chromium, started by Playwright). Refuses our own group. */
export function adoptGroup(pgid: number, label: string): void {
  if (pgid <= 1 || pgid === ownProcessGroup())
    throw new Error(`refusing to track process group ${pgid} (${label}): it is ours`);
  groups.set(pgid, { pgid, label });
}

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  command: string;
}

/** Live processes (zombies excluded: a container's init may never reap them). */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const state = fields[0] ?? '?';
    if (state === 'Z' || state === 'X') continue;
    out.push({
      pid: Number(name),
      command: stat.slice(stat.indexOf('(') + 1, close),
      state,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
    });
  }
  return out;
}

export function groupMembers(pgid: number): ProcessInfo[] {
  return listProcesses().filter((p) => p.pgid === pgid);
}

export function ownProcessGroup(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM, a grace period, then SIGKILL; resolves once no live process is left in the group. */
export async function stopGroup(pgid: number, graceMs = 3000): Promise<void> {
  const label = groups.get(pgid)?.label ?? `group ${pgid}`;
  signalGroup(pgid, 'SIGTERM');
  if (!(await waitEmpty(pgid, graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    if (!(await waitEmpty(pgid, 5000))) {
      const left = groupMembers(pgid)
        .map((p) => `${p.pid} ${p.command}`)
        .join(', ');
      throw new Error(`could not stop ${label}: still running: ${left}`);
    }
  }
  groups.delete(pgid);
}

async function waitEmpty(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function trackedGroups(): readonly number[] {
  return [...groups.keys()];
}

/** Stops every tracked group and removes every tracked temporary folder. */
export async function stopAll(): Promise<void> {
  const errors: string[] = [];
  await Promise.all(
    [...groups.keys()].map((pgid) => stopGroup(pgid).catch((error: Error) => errors.push(error.message))),
  );
  for (const dir of [...tempDirs]) removeTempDir(dir);
  if (errors.length > 0) throw new Error(errors.join('; '));
}

/** The synchronous last resort for signal and exit handlers, where nothing asynchronous runs any more. */
export function stopAllSync(): void {
  for (const pgid of groups.keys()) signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + 2000;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline && [...groups.keys()].some((pgid) => groupMembers(pgid).length > 0)) {
    Atomics.wait(sleeper, 0, 0, 50);
  }
  for (const pgid of groups.keys()) signalGroup(pgid, 'SIGKILL');
  groups.clear();
  for (const dir of [...tempDirs]) {
    try {
      removeTempDir(dir);
    } catch {
      // best effort while exiting
    }
  }
}

let handlersInstalled = false;

/** On SIGINT/SIGTERM/SIGHUP stop everything, then exit with the conventional 128 + signal number. */
export function installSignalHandlers(onSignal?: (signal: NodeJS.Signals) => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      onSignal?.(signal);
      stopAllSync();
      process.exit(128 + (numbers[signal] ?? 0));
    });
  }
  process.on('exit', () => {
    if (groups.size > 0 || tempDirs.size > 0) stopAllSync();
  });
}
