import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromotionError } from './errors.js';

/** What the strategy's own test run reported */
export interface StrategyTestSummary {
  /** Test files under strategies/<name>/ */
  files: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
}

interface VitestJson {
  numTotalTestSuites?: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[];
}

/**
 * Runs the tests under `strategies/<name>/` with the repository's own vitest and config, in a child
 * process (a clean module graph, whatever loaded the caller). A strategy without tests, a failing
 * test or a skipped one refuses the promotion: what is promoted must have been checked.
 */
export async function runStrategyTests(repo: string, name: string): Promise<StrategyTestSummary> {
  const vitest = join(repo, 'node_modules', 'vitest', 'vitest.mjs');
  if (!existsSync(vitest)) throw new PromotionError('PROMOTE_TESTS_FAILED', `cannot run the tests of ${name}: ${vitest} is missing (npm install)`);
  const out = mkdtempSync(join(tmpdir(), 'monger-promote-tests-'));
  const report = join(out, 'vitest.json');
  try {
    const { code, output } = await run(process.execPath, [vitest, 'run', `strategies/${name}/`, '--passWithNoTests', '--reporter=json', `--outputFile=${report}`], repo);
    if (!existsSync(report)) throw new PromotionError('PROMOTE_TESTS_FAILED', `the tests of ${name} did not run (vitest exited ${code}):\n${output.slice(-2000)}`);
    const r = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
    const summary: StrategyTestSummary = {
      files: r.testResults.length,
      tests: r.numTotalTests,
      passed: r.numPassedTests,
      failed: r.numFailedTests,
      skipped: r.numPendingTests + (r.numTodoTests ?? 0),
    };
    if (summary.tests === 0) throw new PromotionError('PROMOTE_TESTS_FAILED', `strategies/${name}/ has no tests: a promotable module carries its tests (*.test.ts)`);
    const failedFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0);
    if (summary.failed > 0 || summary.skipped > 0 || failedFiles.length > 0 || code !== 0) {
      const failures = r.testResults.flatMap((f) => [
        ...(f.status === 'failed' && f.assertionResults.length === 0 ? [`${f.name}: ${(f.message ?? 'failed to load').split('\n')[0]}`] : []),
        ...f.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.fullName}: ${a.status}${a.failureMessages?.length ? ` (${a.failureMessages[0]!.split('\n')[0]})` : ''}`),
      ]);
      throw new PromotionError(
        'PROMOTE_TESTS_FAILED',
        `the tests of ${name} did not all pass (${summary.passed}/${summary.tests} passed, ${summary.failed} failed, ${summary.skipped} skipped):\n${failures.slice(0, 10).map((f) => `  - ${f}`).join('\n')}`,
      );
    }
    return summary;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  // vitest's own worker variables would make a nested vitest think it is a worker
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
