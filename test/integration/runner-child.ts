/**
 * Test fixture (runner-restart, runner-universe-restart): `monger run --config <config> --dev` as a
 * child process, its output collected, and its RunSummary (the last stdout line) read back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, expect, vi } from 'vitest';
import type { RunSummary } from '../../runner/live/live-runner.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/**
 * The test file's temp dir; after each test the spies (on the simulator's order book) are restored,
 * after the file the children still running are killed and the dir removed
 */
export function childTestDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface RunChildOptions {
  /** Over the parent's environment, after IB_HOST/IB_PORT/IB_CLIENT_ID/MONGER_TEST_FAULT are cleared */
  env?: Record<string, string>;
  /** Gets the child (to kill it from a simulator hook) */
  onSpawn?: (c: ChildProcess) => void;
  onStderr?: (chunk: string) => void;
  onExit?: () => void;
  /** SIGKILL after this long, so a hung child cannot outlive the test */
  safetyMs: number;
}

export function runMonger(config: string, o: RunChildOptions): Promise<Exit> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [resolve('bin/monger.js'), 'run', '--config', config, '--dev'], {
      env: { ...process.env, IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '', MONGER_TEST_FAULT: '', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    o.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      o.onStderr?.(d);
    });
    const safety = setTimeout(() => child.kill('SIGKILL'), o.safetyMs);
    child.on('error', rej);
    child.on('exit', (code, signal) => {
      o.onExit?.();
      clearTimeout(safety);
      children.delete(child);
      res({ code, signal, stdout, stderr });
    });
  });
}

/** The run's summary; a non-zero exit fails with the last `tail` characters of its stderr */
export function summaryOf(exit: Exit, tail: number): RunSummary {
  expect(exit.code, exit.stderr.slice(-tail)).toBe(0);
  const lines = exit.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as RunSummary;
}
