// npm run bench [-- [ingest|engine|features|walkforward|ib|runner|rl-env|universe|ppo ...] [--json]]: prints every benchmark (or only the
// named suites) with its same-run baseline and ratio.
import { engineBenchmarks } from './engine.bench.js';
import { featureBenchmarks } from './features.bench.js';
import { ibBenchmarks } from './ib.bench.js';
import { ingestBenchmarks } from './ingest.bench.js';
import { renderReport, type BenchReport } from './harness.js';
import { ppoBenchmarks } from './ppo.bench.js';
import { rlEnvBenchmarks } from './rl-env.bench.js';
import { runnerBenchmarks } from './runner.bench.js';
import { universeBenchmarks } from './universe.bench.js';
import { universePreemptBenchmarks } from './universe-preempt.bench.js';
import { walkForwardBenchmarks } from './walkforward.bench.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.filter((a) => !a.startsWith('--'));
const report: BenchReport = {};
const suites: [string, () => Promise<BenchReport>][] = [
  ['ingest', ingestBenchmarks],
  ['engine', engineBenchmarks],
  ['features', featureBenchmarks],
  ['walkforward', walkForwardBenchmarks],
  ['ib', ibBenchmarks],
  ['runner', runnerBenchmarks],
  ['rl-env', rlEnvBenchmarks],
  // the runner's activation path over TCP, then the manager's preemption cost alone
  ['universe', async () => ({ ...(await universeBenchmarks()), ...(await universePreemptBenchmarks()) })],
  ['ppo', ppoBenchmarks],
];
const unknown = only.filter((name) => !suites.some(([s]) => s === name));
if (unknown.length) {
  process.stderr.write(`unknown benchmark suite(s): ${unknown.join(', ')}; known: ${suites.map(([s]) => s).join(', ')}\n`);
  process.exit(2);
}
for (const [name, run] of suites) {
  if (only.length && !only.includes(name)) continue;
  if (!json) process.stderr.write(`running ${name} benchmarks…\n`);
  Object.assign(report, await run());
}
process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
