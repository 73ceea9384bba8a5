/**
 * The `monger` kernel in real Jupyter (nbclient through scripts/notebooks/execute.py): cells import
 * project files from the project root, an edited module hot-reloads, a new module can be imported,
 * and a change under node_modules/@types while the kernel runs (an `npm install`) no longer breaks
 * every later cell (tslab's "Unexpected pending rebuildTimer", fixed by scripts/notebooks/kernel.cjs;
 * with plain tslab 1.0.22 this notebook fails from the cell after the change). Needs Jupyter.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeNotebooks, readNotebook } from '../../scripts/notebooks/run-notebooks.js';
import { serializeNotebook, text, type Notebook } from '../../scripts/notebooks/notebook-file.js';

const kernel = createRequire(resolve('package.json'))('./scripts/notebooks/kernel.cjs') as { fixedConverterSource(source: string): string; FIXED: string };

// modules under a gitignored folder of the project (the kernel only imports below its root)
mkdirSync(resolve('data/reports'), { recursive: true });
const dir = mkdtempSync(resolve('data/reports/kernel-test-'));
// a type root the kernel watches; ignored by tsc and tslab-check, which load only @types/node
const typesDir = resolve(`node_modules/@types/monger-kernel-test-${randomBytes(4).toString('hex')}`);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(typesDir, { recursive: true, force: true });
});

describe('kernel.cjs', () => {
  it('applies its timer fix to the installed tslab converter', () => {
    const source = readFileSync(resolve('node_modules/tslab/dist/converter.js'), 'utf8');
    const fixed = kernel.fixedConverterSource(source);
    expect(fixed).toContain(kernel.FIXED);
    expect(fixed).not.toContain('Unexpected pending rebuildTimer');
    expect(() => kernel.fixedConverterSource('something else')).toThrow(/not the 1.0.22/);
  });

  it('runs cells in the project root, hot-reloads an edited module, imports a new one and survives an @types change', async () => {
    const rel = relative(process.cwd(), dir);
    writeFileSync(join(dir, 'a.ts'), 'export const v = 1;\n');
    const cells = [
      `import { v } from './${rel}/a.js';\nimport { formatPercent } from './lib/report/html-format.js';\nconsole.log(process.cwd() === ${JSON.stringify(process.cwd())}, v, formatPercent(0.5));`,
      // while the kernel runs: a new module, an edit, and what npm install does to node_modules/@types
      `import { mkdirSync, writeFileSync } from 'node:fs';\nwriteFileSync('${rel}/b.ts', 'export const w = 7;\\n');\nwriteFileSync('${rel}/a.ts', 'export const v = 2;\\n');\nmkdirSync(${JSON.stringify(typesDir)});\nwriteFileSync(${JSON.stringify(join(typesDir, 'package.json'))}, '{}');\nawait new Promise((r) => setTimeout(r, 3000));`,
      `import { v as v2 } from './${rel}/a.js';\nconsole.log('reloaded', v2);`,
      `import { w } from './${rel}/b.js';\nconsole.log('new module', w);`,
      `console.log('still fine');`,
    ];
    const nb: Notebook = {
      cells: cells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
      metadata: { kernelspec: { name: 'monger', display_name: 'TypeScript (monger)', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 4,
    };
    const path = join(dir, 'hot.ipynb');
    writeFileSync(path, serializeNotebook(nb));
    const [run] = await executeNotebooks([path], { outDir: join(dir, 'out'), timeoutSeconds: 120 });
    expect(run!.failed).toBeNull();
    const outputs = readNotebook(run!.output).cells.map((c) => (c.outputs ?? []).map((o) => text(o.text)).join(''));
    expect(outputs).toEqual(['true 1 50.00%\n', '', 'reloaded 2\n', 'new module 7\n', 'still fine\n']);
  }, 180_000);
});
