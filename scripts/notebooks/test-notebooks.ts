/**
 * `npm run test:notebooks [name…]`: the notebooks must never rot.
 *
 * 1. Every committed notebook is stripped of outputs.
 * 2. Everything notebooks may import compiles under tslab's own compiler (names file and line;
 *    see tslab-check.ts). A failure is reported; the notebooks still run.
 * 3. Every notebook (or those whose name contains an argument) runs headless in real Jupyter with
 *    the `monger` tslab kernel, in the project root, on a throwaway store (`MONGER_DB`); the first
 *    failing cell stops its notebook and is printed with its error (tslab writes errors to the
 *    cell's stderr, which nbconvert would not show).
 * 4. Every chart cell (one calling `show(`) produced a plotly figure with data, after plotly.js was
 *    embedded.
 * Executed notebooks are kept in data/reports/notebooks/ for a look. Exit 1 on any problem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { projectRoot } from './jupyter-env.js';
import { checkCharts, listNotebooks } from './notebook-file.js';
import { executeNotebooks, readNotebook, type NotebookRun } from './run-notebooks.js';
import { unstrippedNotebooks } from './strip.js';
import { notebookSourceFiles, tslabDiagnostics } from './tslab-check.js';

const root = projectRoot();
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const all = listNotebooks(join(root, 'notebooks'));
const notebooks = filters.length === 0 ? all : all.filter((p) => filters.some((f) => basename(p).includes(f)));
const problems: string[] = [];
const rel = (p: string) => relative(root, p);

function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

async function main(): Promise<void> {
  if (notebooks.length === 0) throw new Error(`no notebook matches ${filters.join(', ')} in notebooks/`);

  for (const [path, list] of unstrippedNotebooks(all)) problems.push(`${rel(path)} is committed with outputs (${list[0]}…): run npm run notebooks:strip`);

  const started = Date.now();
  const diagnostics = tslabDiagnostics(notebookSourceFiles(root), root);
  console.log(`tslab compile check of lib/, strategies/, runner/: ${diagnostics.length === 0 ? 'ok' : `${diagnostics.length} problems`} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  // reported, but the notebooks still run: they may not import the broken files
  if (diagnostics.length > 0) problems.push(`tslab (TypeScript 5.0, not strict, CommonJS) cannot compile what notebooks may import:\n${indent(diagnostics.join('\n'))}`);

  const store = mkdtempSync(join(tmpdir(), 'monger-notebooks-'));
  const outDir = join(root, 'data', 'reports', 'notebooks');
  try {
    await executeNotebooks(notebooks, {
      outDir,
      env: { MONGER_DB: join(store, 'notebooks.duckdb') },
      onNotebook: (run) => report(run),
    });
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

function report(run: NotebookRun): void {
  const name = rel(run.notebook);
  const slowest = [...run.cells].sort((a, b) => b.seconds - a.seconds)[0];
  const timing = `${run.seconds.toFixed(1)} s (kernel start ${run.kernelSeconds?.toFixed(1) ?? '?'} s, ${run.cells.length} cells${slowest ? `, slowest cell ${slowest.index}: ${slowest.seconds.toFixed(1)} s` : ''})`;
  if (!run.ok) {
    const f = run.failed!;
    console.log(`FAIL ${name}  ${timing}`);
    const where = f.index >= 0 ? `cell ${f.index}` : 'kernel';
    problems.push(`${name}: ${where} failed\n${f.source ? `  --- cell ${f.index} ---\n${indent(f.source)}\n  --- error ---\n` : ''}${indent(f.error)}`);
    return;
  }
  const { charts, problems: chartProblems } = checkCharts(readNotebook(run.output));
  for (const p of chartProblems) problems.push(`${name}: ${p}`);
  const figures = charts.reduce((n, c) => n + c.figures.length, 0);
  console.log(`${chartProblems.length === 0 ? 'ok  ' : 'FAIL'} ${name}  ${timing}, ${charts.length} chart cells, ${figures} figures`);
}

main()
  .catch((e: unknown) => problems.push(e instanceof Error ? e.message : String(e)))
  .finally(() => {
    if (problems.length > 0) {
      console.error(`\n${problems.length} notebook problem(s):\n`);
      for (const p of problems) console.error(`${p}\n`);
      process.exitCode = 1;
    } else {
      console.log(`\n${notebooks.length} notebooks ran cleanly; executed copies in data/reports/notebooks/`);
    }
  });
