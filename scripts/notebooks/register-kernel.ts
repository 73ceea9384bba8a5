/**
 * Registers the `monger` tslab kernel (npm `postinstall`, `npm run notebook:kernel`, and before
 * every notebook run). Idempotent; never fails an install: without Jupyter it prints how to get it.
 *
 * 1. Writes `.jupyter/kernels/monger/kernel.json` in the project (no Jupyter needed): the npm
 *    scripts put `.jupyter` on JUPYTER_PATH, so they always use this checkout's kernel.
 * 2. With a Python that has Jupyter (pip or Debian, see `findJupyterPython`), also installs it
 *    for the user, so a `jupyter notebook` or an editor started any other way finds the kernel.
 *
 * `--local-only` skips step 2 (test and screenshot runs leave the user's Jupyter alone).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KERNEL_NAME, findJupyterPython, missingJupyterHint, projectRoot, writeLocalKernelSpec } from './jupyter-env.js';

const INSTALL_PY = `
import sys
from jupyter_client.kernelspec import KernelSpecManager
print(KernelSpecManager().install_kernel_spec(sys.argv[1], sys.argv[2], user=True, replace=True))
`;

/** Installs the kernelspec folder for the user with `python`'s jupyter_client; returns where. */
function installUserKernel(python: string, dir: string): string {
  const r = spawnSync(python, ['-c', INSTALL_PY, dir, KERNEL_NAME], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`jupyter_client could not install the kernel: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout.trim();
}

function main(): void {
  const root = projectRoot();
  if (!existsSync(join(root, 'node_modules', 'tslab', 'bin', 'tslab'))) {
    console.error('monger notebooks: tslab is not installed (npm install), kernel not registered');
    return;
  }
  const dir = writeLocalKernelSpec(root);
  if (process.argv.includes('--local-only')) return;
  const python = findJupyterPython();
  if (python === undefined) {
    console.error(missingJupyterHint(`the '${KERNEL_NAME}' kernel is registered for npm run notebook only`));
    return;
  }
  const where = installUserKernel(python, dir);
  console.error(`monger notebooks: kernel '${KERNEL_NAME}' (TypeScript, cwd ${root}) registered in ${where}`);
}

try {
  main();
} catch (e) {
  // an install must not fail because of an optional notebook setup step
  console.error(`monger notebooks: kernel registration skipped: ${(e as Error).message}`);
}
