// npm run bench [-- --json]: prints every benchmark with its same-run baseline and ratio.
import { engineBenchmarks } from './engine.bench.js';
import { ingestBenchmarks } from './ingest.bench.js';
import { renderReport, type BenchReport } from './harness.js';

const json = process.argv.includes('--json');
const report: BenchReport = {};
const suites: [string, () => Promise<BenchReport>][] = [
  ['ingest', ingestBenchmarks],
  ['engine', engineBenchmarks],
];
for (const [name, run] of suites) {
  if (!json) process.stderr.write(`running ${name} benchmarks…\n`);
  Object.assign(report, await run());
}
process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
