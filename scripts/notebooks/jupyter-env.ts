/**
 * Where Jupyter and monger's notebook kernel live, shared by the kernel registration, `npm run
 * notebook`, `npm run test:notebooks` and the screenshot script.
 *
 * The kernelspec is kept in the project (`.jupyter/kernels/monger`, gitignored) and every npm
 * script puts `.jupyter` first on JUPYTER_PATH, so a run always uses this checkout's kernel even
 * when another checkout registered its own `monger` kernel for the user.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const KERNEL_NAME = 'monger';
export const KERNEL_DISPLAY_NAME = 'TypeScript (monger)';

/** npm runs scripts from the package root; every notebook script does too. */
export function projectRoot(): string {
  return resolve(process.cwd());
}

export function jupyterDataDir(root = projectRoot()): string {
  return join(root, '.jupyter');
}

export function kernelSpecDir(root = projectRoot()): string {
  return join(jupyterDataDir(root), 'kernels', KERNEL_NAME);
}

/**
 * Environment for Jupyter processes: the project's kernelspec first, and Jupyter's runtime files
 * (connection files, notebook server state) in the project instead of the home folder.
 */
export function jupyterEnv(root = projectRoot(), base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const data = jupyterDataDir(root);
  const path = [data, base.JUPYTER_PATH].filter((p): p is string => p !== undefined && p !== '').join(':');
  return { ...base, JUPYTER_PATH: path, JUPYTER_RUNTIME_DIR: join(data, 'runtime') };
}

/**
 * The kernelspec: a shell that changes to the project root (so cells import `./lib/…` and
 * `./strategies/…`) and starts this project's tslab through `kernel.cjs` (tslab with a fix for
 * files changing while the kernel runs) with the node that installed it. Paths go in as positional
 * arguments, never spliced into the script, so spaces and quotes in them are safe; the connection
 * file stays a separate argv entry as tslab requires (tslab issue #36).
 */
export function kernelSpec(root = projectRoot(), node = process.execPath): Record<string, unknown> {
  return {
    argv: [
      '/bin/sh',
      '-c',
      'cd "$1" && exec "$2" "$1/scripts/notebooks/kernel.cjs" kernel --config-path "$0"',
      '{connection_file}',
      root,
      node,
    ],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    metadata: { monger: { root } },
  };
}

/** Writes the project-local kernelspec when it differs; returns its folder. */
export function writeLocalKernelSpec(root = projectRoot()): string {
  const dir = kernelSpecDir(root);
  const path = join(dir, 'kernel.json');
  const json = `${JSON.stringify(kernelSpec(root), null, 2)}\n`;
  if (!existsSync(path) || readFileSync(path, 'utf8') !== json) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, json);
  }
  return dir;
}

/** The Debian packages `.ci/run` installs; printed in hints. */
export const DEBIAN_PACKAGES = 'jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client';

/**
 * A Python that can import every module in `modules`: `MONGER_JUPYTER_PYTHON` if set, then the
 * `python3`/`python` on PATH (a venv with pip-installed Jupyter), then Debian's `/usr/bin/python3`
 * (a pyenv python3 often shadows it on PATH and has no Jupyter). Undefined when none can.
 */
export function findJupyterPython(modules: readonly string[] = ['jupyter_client', 'jupyter_core']): string | undefined {
  const candidates = [process.env.MONGER_JUPYTER_PYTHON, 'python3', 'python', '/usr/bin/python3'];
  const probe = modules.map((m) => `import ${m}`).join('; ');
  for (const python of candidates) {
    if (python === undefined || python === '') continue;
    const r = spawnSync(python, ['-c', probe], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) return python;
  }
  return undefined;
}

/** The message to print when no Python with Jupyter is found. */
export function missingJupyterHint(what: string): string {
  return [
    `monger notebooks: no Python with Jupyter found, so ${what}.`,
    `  Install it with Debian's packages: sudo apt-get install -y ${DEBIAN_PACKAGES}`,
    '  or with pip into the python3 on your PATH: pip install notebook nbconvert nbclient',
    '  (or point MONGER_JUPYTER_PYTHON at a Python that has it), then run: npm run notebook:kernel',
  ].join('\n');
}
