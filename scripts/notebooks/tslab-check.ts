/**
 * Type-checks what notebooks import (lib/, strategies/, runner/) the way tslab compiles it:
 * tslab's bundled TypeScript 5.0 with its hard-coded options (`tslab/dist/converter.js`: ES2022
 * lib, Node10 resolution, no `strict`, declarations on), and CommonJS output, which is what the
 * kernel runs. Code that passes the project's strict tsc can still fail here, e.g. narrowing on
 * `!reply.ok` needs strictNullChecks, ES2023 methods are missing, `import.meta` and top-level
 * await cannot be CommonJS. Failing here names the file and line; the kernel only says
 * `198:92 - …` on the cell's stderr.
 *
 * Usage: tsx scripts/notebooks/tslab-check.ts   (exit 1 with the diagnostics when any)
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type * as TS from 'typescript';
import { projectRoot } from './jupyter-env.js';

/** Folders notebooks import from; tests, benchmarks and fixtures are not loaded by notebooks. */
export const NOTEBOOK_SOURCES = ['lib', 'strategies', 'runner/live', 'runner/tws-sim'];
const SKIP = /\.test\.ts$|(^|\/)(test-[^/]*|[^/]*-fixtures?|test-wire|order-test-kit)\.ts$/;

export function notebookSourceFiles(root = projectRoot()): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !SKIP.test(relative(root, path))) out.push(path);
    }
  };
  for (const folder of NOTEBOOK_SOURCES) walk(join(root, folder));
  return out;
}

/** The diagnostics tslab's compiler reports for `files`, as `file:line:col - message` lines. */
export function tslabDiagnostics(files: readonly string[], root = projectRoot()): string[] {
  const ts = createRequire(join(root, 'package.json'))('@tslab/typescript-for-tslab') as typeof TS;
  const options: TS.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    declaration: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    rootDir: root,
    noEmit: true,
    types: ['node'],
  };
  const program = ts.createProgram([...files], options);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...files.flatMap((f) => program.getDeclarationDiagnostics(program.getSourceFile(f)))];
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return message;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${relative(root, d.file.fileName)}:${line + 1}:${character + 1} - ${message}`;
  });
}

function main(): void {
  const files = notebookSourceFiles();
  const problems = tslabDiagnostics(files);
  if (problems.length > 0) {
    console.error(`tslab cannot compile what notebooks import (${problems.length} problems; tslab: TypeScript 5.0, not strict, CommonJS):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.error(`tslab compiles lib/, strategies/ and runner/ (${files.length} files)`);
}

if (process.argv[1]?.endsWith('tslab-check.ts')) main();
