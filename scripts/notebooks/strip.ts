/**
 * Strips outputs from notebooks before they are committed (outputs hold 5 MB of plotly and
 * machine-specific numbers). `npm run notebooks:strip [files…]` rewrites notebooks/*.ipynb (or the
 * files given) in place; `--check` only lists what is not stripped and exits 1 if anything is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from './jupyter-env.js';
import { listNotebooks, serializeNotebook, strippedProblems, stripOutputs, type Notebook } from './notebook-file.js';

/** Problems of every notebook that is not stripped, by path; empty when all are clean. */
export function unstrippedNotebooks(paths: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const path of paths) {
    const problems = strippedProblems(JSON.parse(readFileSync(path, 'utf8')) as Notebook);
    if (problems.length > 0) out.set(path, problems);
  }
  return out;
}

function main(): void {
  const root = projectRoot();
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const files = args.filter((a) => !a.startsWith('--'));
  const paths = files.length > 0 ? files : listNotebooks(join(root, 'notebooks'));
  if (check) {
    const dirty = unstrippedNotebooks(paths);
    for (const [path, problems] of dirty) console.error(`${relative(root, path)}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3})` : ''}`);
    if (dirty.size > 0) {
      console.error('notebooks must be committed without outputs: run npm run notebooks:strip');
      process.exit(1);
    }
    console.error(`${paths.length} notebooks, all stripped`);
    return;
  }
  for (const path of paths) {
    const before = readFileSync(path, 'utf8');
    const after = serializeNotebook(stripOutputs(JSON.parse(before) as Notebook));
    if (after !== before) {
      writeFileSync(path, after);
      console.error(`stripped ${relative(root, path)}`);
    }
  }
}

if (process.argv[1]?.endsWith('strip.ts')) main();
