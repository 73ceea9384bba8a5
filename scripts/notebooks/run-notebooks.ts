/**
 * Executes notebooks headless in real Jupyter with the project's tslab kernel (nbclient, through
 * `execute.py`), into a throwaway store, and reports per notebook. Shared by
 * `npm run test:notebooks` and the screenshot script.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNEL_NAME, findJupyterPython, jupyterEnv, missingJupyterHint, projectRoot, writeLocalKernelSpec } from './jupyter-env.js';
import type { Notebook } from './notebook-file.js';

/** One line of execute.py's output. */
export interface NotebookRun {
  notebook: string;
  output: string;
  ok: boolean;
  seconds: number;
  kernelSeconds?: number;
  cells: { index: number; seconds: number; status: string }[];
  failed: { index: number; source: string; error: string } | null;
}

export interface RunOptions {
  /** Where executed notebooks are written */
  outDir: string;
  /** Extra environment for the kernels (e.g. MONGER_DB) */
  env?: NodeJS.ProcessEnv;
  /** Per-cell timeout, seconds. Default 300 */
  timeoutSeconds?: number;
  /** Called as each notebook finishes */
  onNotebook?: (run: NotebookRun) => void;
}

/**
 * Runs `notebooks` one after the other (one kernel each, started in the project root) and
 * returns their reports. Throws when no Python with nbclient exists.
 */
export async function executeNotebooks(notebooks: readonly string[], options: RunOptions): Promise<NotebookRun[]> {
  const root = projectRoot();
  writeLocalKernelSpec(root);
  const python = findJupyterPython(['nbclient', 'nbformat', 'jupyter_client']);
  if (python === undefined) throw new Error(missingJupyterHint('notebooks cannot run'));
  mkdirSync(options.outDir, { recursive: true });
  const args = [join(root, 'scripts', 'notebooks', 'execute.py'), KERNEL_NAME, options.outDir, String(options.timeoutSeconds ?? 300), ...notebooks];
  const child = spawn(python, args, { cwd: root, env: jupyterEnv(root, { ...process.env, ...options.env }), stdio: ['ignore', 'pipe', 'pipe'] });
  const runs: NotebookRun[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      const run = JSON.parse(line) as NotebookRun;
      runs.push(run);
      options.onNotebook?.(run);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (runs.length < notebooks.length) {
    throw new Error(`execute.py stopped after ${runs.length} of ${notebooks.length} notebooks (exit ${code}):\n${stderr.trim().slice(-4000)}`);
  }
  return runs;
}

export function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}
