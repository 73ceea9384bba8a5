/**
 * `npm run notebook [-- jupyter options]`: registers the kernel (idempotent) and starts the Jupyter
 * Notebook server in the project root, opening notebooks/. The root matters twice: the kernel runs
 * there anyway, and the server then serves `files/node_modules/plotly.js-dist-min/…`, from which
 * a figure in a reloaded page loads plotly (see lib/display/plot.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { findJupyterPython, jupyterEnv, missingJupyterHint, projectRoot, writeLocalKernelSpec } from './jupyter-env.js';

const root = projectRoot();
writeLocalKernelSpec(root);
const python = findJupyterPython(['notebook', 'jupyter_client']);
if (python === undefined) {
  console.error(missingJupyterHint('the notebook server cannot start'));
  process.exit(1);
}
const version = spawnSync(python, ['-c', 'import notebook; print(notebook.__version__)'], { encoding: 'utf8' }).stdout.trim();
// Notebook 7 runs on jupyter_server (ServerApp); 6.x has its own NotebookApp
const classic = Number(version.split('.')[0]) < 7;
const args = classic
  ? ['-m', 'notebook', `--notebook-dir=${root}`, '--NotebookApp.default_url=/tree/notebooks']
  : ['-m', 'notebook', `--ServerApp.root_dir=${root}`];
// containers and CI run as root, which the server refuses unless told
if (process.getuid?.() === 0) args.push('--allow-root');
console.error(`Jupyter Notebook ${version} in ${root}; kernel: TypeScript (monger). Stop with Ctrl-C.`);
const child = spawn(python, [...args, ...process.argv.slice(2)], { cwd: root, env: jupyterEnv(root), stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
