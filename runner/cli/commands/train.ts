import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError } from '../../../lib/core/errors.js';
import { loadEnvConfig, parseEnvConfig, type TradingEnvConfig } from '../../../lib/rl/env/make-env.js';
import { buildPolicyModel, writePolicyModelModule } from '../../../lib/rl/policy/policy-model.js';
import { loadCheckpoint, resumeState } from '../../../lib/rl/ppo/checkpoint.js';
import { loadPpoConfigFile, parsePpoConfig, type PpoConfig } from '../../../lib/rl/ppo/ppo-config.js';
import { TF_BACKENDS, type TfBackendName } from '../../../lib/rl/ppo/tf-loader.js';
import type { IterationMetrics, TrainProgress } from '../../../lib/rl/ppo/train.js';
import { defaultCheckpointDir, runTraining, type TrainRunResult } from '../../../lib/rl/ppo/train-run.js';
import { Store } from '../../../lib/store/store.js';
import { writeWalkForwardReport } from '../../../lib/report/walkforward-report.js';
import { runRlWalkForward, type RlWalkForwardResult } from '../../../lib/rl/ppo/walk-forward-rl.js';
import { saveWalkForward } from '../../../lib/walkforward/save-walk-forward.js';
import { ppoStrategy } from '../../../strategies/ppo-voltarget/index.js';
import { info, printTable } from '../output.js';
import { walkForwardJson } from './walkforward-json.js';
import { dbPath } from '../store-option.js';
import { integerFlags } from '../flag-parsers.js';

interface Flags {
  env?: string;
  steps: string;
  seed: string;
  workers?: string;
  ppo?: string;
  from?: string;
  to?: string;
  exportModel?: string;
  out?: string;
  resume?: string;
  checkpointEvery: string;
  walkForward?: string;
  wfMode: string;
  wfTrain?: string;
  wfTest?: string;
  embargo: string;
  report?: string;
  backend: string;
  json?: boolean;
  save: boolean;
  progress: boolean;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('Train a PPO agent on a trading environment config; writes a checkpoint and stores the run')
    .option('--env <config.yaml>', 'environment config (e.g. strategies/ppo-voltarget/env.yaml); required unless --resume')
    .requiredOption('--steps <n>', 'environment steps to train (whole rollouts: rounded up)')
    .option('--seed <n>', 'seed of the policy init, env episodes, action sampling and minibatches', '1')
    .option('--workers <k>', 'worker threads stepping envs and computing gradients (0: this thread; default min(2, envs)); results are reproducible for a fixed count')
    .option('--ppo <file.yaml>', 'PPO hyperparameters (default: ppo.yaml beside the env config when there is one)')
    .option('--from <date>', "train on bars from this date (overrides the env config's data.from; store data)")
    .option('--to <date>', "train on bars up to this date (overrides data.to), e.g. to keep later years out of sample")
    .option('--out <dir>', 'checkpoint directory (default data/checkpoints/<run id>)')
    .option('--export-model <file.ts>', 'also write the trained policy as a strategy model module (e.g. strategies/ppo-voltarget/model/policy.ts)')
    .option('--resume <dir>', 'continue the run in this checkpoint until --steps (its hyperparameters and env config are used)')
    .option('--checkpoint-every <n>', 'also write the checkpoint every n updates (0: only at the end)', '0')
    .option('--walk-forward <folds>', 'walk-forward instead: train on each fold\'s train window (--steps each), backtest the ppo-voltarget strategy with that policy out of sample, stitch the test windows')
    .addOption(new Option('--wf-mode <mode>', 'walk-forward train windows').choices(['rolling', 'anchored']).default('rolling'))
    .option('--wf-train <sessions>', 'walk-forward sessions per train window (default: twice the test window)')
    .option('--wf-test <sessions>', 'walk-forward sessions per test window (default: the rest divided by the folds)')
    .option('--embargo <sessions>', 'walk-forward sessions skipped between train and test', '0')
    .option('--report <file.html>', 'walk-forward: write the offline HTML report (the same as monger walkforward\'s)')
    .addOption(new Option('--backend <name>', 'tfjs backend for gradients').choices([...TF_BACKENDS]).default('auto'))
    .option('--json', 'print a one-line JSON summary as the last line')
    .option('--no-save', 'do not store the run in the DuckDB store')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: Flags, cmd: Command) => {
      if (flags.walkForward !== undefined) return walkForwardFromFlags(flags, cmd);
      const result = await trainFromFlags(flags, cmd);
      if (flags.json) process.stdout.write(`${JSON.stringify(trainJson(result), finiteOrNull)}\n`);
      else printSummary(result);
    });
}

function finiteOrNull(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** A run id from the wall clock and the seed: sortable, unique enough for one machine */
function newRunId(seed: number): string {
  return `ppo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-s${seed}-${Math.floor(performance.now() * 1000) % 100000}`;
}

async function trainFromFlags(f: Flags, cmd: Command): Promise<TrainRunResult> {
  const problems: string[] = [];
  const int = integerFlags(problems);
  const steps = int('--steps', f.steps, 1)!;
  const seed = int('--seed', f.seed, -(2 ** 31))!;
  const workersFlag = int('--workers', f.workers, 0);
  const checkpointEvery = int('--checkpoint-every', f.checkpointEvery, 0)!;
  if (f.env === undefined && f.resume === undefined) problems.push('--env: required (the environment config), unless --resume names a checkpoint');
  if (problems.length) throw new ConfigError('monger train', problems);

  const resumed = f.resume === undefined ? undefined : loadCheckpoint(f.resume);
  const envConfig = resumed?.manifest.envConfig ?? withRange(loadEnvConfig(f.env!), f.from, f.to);
  let ppo: PpoConfig;
  if (resumed !== undefined) ppo = resumed.manifest.ppo;
  else {
    const beside = join(dirname(f.env!), 'ppo.yaml');
    const file = f.ppo ?? (existsSync(beside) ? beside : undefined);
    ppo = file === undefined ? parsePpoConfig({}) : loadPpoConfigFile(file);
    info(file === undefined ? 'PPO hyperparameters: defaults' : `PPO hyperparameters: ${file}`);
  }
  if (f.exportModel !== undefined && (envConfig as TradingEnvConfig).data?.kind !== 'store') {
    throw new ConfigError('--export-model', ['a strategy model needs an env on store data (its features come from bars); this env config has none']);
  }
  const workers = workersFlag ?? Math.min(2, ppo.numEnvs);
  const runId = newRunId(seed);
  const checkpointDir = f.out ?? f.resume ?? defaultCheckpointDir(runId);
  const store = f.save ? await Store.open(dbPath(cmd)) : undefined;
  const bar = progressBar(f.progress && !f.json, steps);
  try {
    const result = await runTraining({
      runId,
      envConfig,
      ...(resumed === undefined ? {} : { envFactory: resumed.manifest.envFactory, resume: resumeState(resumed) }),
      steps,
      seed: resumed?.manifest.seed ?? seed,
      workers,
      ppo,
      backend: f.backend as TfBackendName,
      checkpointDir,
      checkpointEvery,
      store,
      createdAt: new Date().toISOString(),
      onIteration: bar.update,
    });
    bar.stop();
    info(`checkpoint written to ${checkpointDir}`);
    if (f.exportModel !== undefined) {
      writePolicyModelModule(f.exportModel, buildPolicyModel({ ...result, envConfig, metrics: result.metrics }));
      info(`policy model written to ${f.exportModel} (weights sha256 ${result.checkpoint?.manifest.policy.sha256 ?? '?'})`);
    }
    if (store !== undefined) info(`training run ${runId} stored in ${store.path}`);
    return result;
  } finally {
    bar.stop();
    store?.close();
  }
}

/** The env config with its store data range narrowed (--from/--to) */
function withRange(config: TradingEnvConfig, from: string | undefined, to: string | undefined): TradingEnvConfig {
  if (from === undefined && to === undefined) return config;
  if (config.data.kind !== 'store') throw new ConfigError('monger train', ['--from/--to: only store data has a date range (this env config uses synthetic data)']);
  const data = { ...config.data, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
  return parseEnvConfig({ ...config, data }, '--from/--to');
}

/** steps/s and the latest episode reward on a terminal; a line per update otherwise (unless --no-progress) */
function progressBar(enabled: boolean, total: number) {
  if (!enabled) return { update: undefined, stop: () => undefined };
  if (!process.stderr.isTTY) {
    return {
      update: (m: IterationMetrics, p: TrainProgress) =>
        info(`update ${m.iteration + 1}: ${p.envSteps.toLocaleString('en-US')}/${total.toLocaleString('en-US')} steps, ${Math.round(p.stepsPerSecond).toLocaleString('en-US')} steps/s, episode reward ${fmt(m.episodeReward)}`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'train [{bar}] {percentage}% | {value}/{total} steps | {sps} steps/s | episode reward {reward} | Sharpe {sharpe}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { sps: '-', reward: '-', sharpe: '-' });
  let stopped = false;
  return {
    update: (m: IterationMetrics, p: TrainProgress) => bar.update(Math.min(total, p.envSteps), { sps: Math.round(p.stepsPerSecond).toLocaleString('en-US'), reward: fmt(m.episodeReward), sharpe: fmt(m.episodeSharpe) }),
    stop: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '-';
}

export function trainJson(r: TrainRunResult) {
  return {
    run_id: r.runId,
    checkpoint: r.checkpoint?.dir ?? null,
    env_config_hash: r.envConfigHash,
    feature_set_hash: r.featureSetHash,
    seed: r.seed,
    env_steps: r.envSteps,
    iterations: r.iterations,
    workers: r.workers,
    backend: r.backend,
    reward_scale: r.rewardScale,
    metrics: r.metrics,
    steps_per_second: r.timing.stepsPerSecond,
    elapsed_ms: r.timing.elapsedMs,
  };
}

function printSummary(r: TrainRunResult): void {
  const m = r.metrics;
  printTable([
    { metric: 'env steps', value: r.envSteps },
    { metric: 'updates', value: r.iterations },
    { metric: 'episodes', value: m.episodes },
    { metric: 'recent episode reward', value: m.recentEpisodeReward },
    { metric: 'recent episode Sharpe', value: m.recentEpisodeSharpe },
    { metric: 'recent final equity', value: m.recentFinalEquity },
    { metric: 'recent max drawdown', value: m.recentMaxDrawdown },
    { metric: 'policy loss', value: m.policyLoss },
    { metric: 'value loss', value: m.valueLoss },
    { metric: 'entropy', value: m.entropy },
    { metric: 'approx KL', value: m.approxKl },
    { metric: 'explained variance', value: m.explainedVariance },
    { metric: 'steps/s', value: Math.round(r.timing.stepsPerSecond) },
  ]);
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** --walk-forward: PPO trained per fold, the ppo-voltarget strategy judged out of sample */
async function walkForwardFromFlags(f: Flags, cmd: Command): Promise<void> {
  const problems: string[] = [];
  const int = integerFlags(problems);
  const folds = int('--walk-forward', f.walkForward, 1)!;
  const steps = int('--steps', f.steps, 1)!;
  const seed = int('--seed', f.seed, -(2 ** 31))!;
  const workersFlag = int('--workers', f.workers, 0);
  const train = int('--wf-train', f.wfTrain, 1);
  const test = int('--wf-test', f.wfTest, 1);
  const embargo = int('--embargo', f.embargo, 0)!;
  if (f.env === undefined) problems.push('--env: required with --walk-forward');
  if (f.resume !== undefined) problems.push('--resume: not with --walk-forward (every fold trains from scratch)');
  if (problems.length) throw new ConfigError('monger train --walk-forward', problems);
  const envConfig = withRange(loadEnvConfig(f.env!), f.from, f.to);
  const beside = join(dirname(f.env!), 'ppo.yaml');
  const file = f.ppo ?? (existsSync(beside) ? beside : undefined);
  const ppo = file === undefined ? parsePpoConfig({}) : loadPpoConfigFile(file);
  const workers = workersFlag ?? Math.min(2, ppo.numEnvs);
  const data = envConfig.data;
  if (data.kind !== 'store') throw new ConfigError('monger train --walk-forward', ['--env: walk-forward needs an env on store data (dates to cut into folds)']);
  const bars = await Store.open(data.db);
  const results = f.save ? await Store.open(dbPath(cmd)) : undefined;
  try {
    const started = performance.now();
    const r: RlWalkForwardResult = await runRlWalkForward({
      envConfig,
      strategyFor: (model) => ppoStrategy(model),
      store: bars,
      split: { mode: f.wfMode as 'rolling', folds, train, test, embargo },
      steps,
      seed,
      workers,
      ppo,
      backend: f.backend as TfBackendName,
      onProgress: f.progress && !f.json ? (p) => (p.envSteps === undefined ? info(`fold ${p.fold + 1}/${p.folds}: ${p.phase === 'train' ? 'training' : 'backtesting out of sample'}`) : undefined) : undefined,
      stopwatch: () => performance.now() - started,
    });
    if (results !== undefined) info(`walk-forward run ${await saveWalkForward(results, r)} stored in ${results.path}`);
    if (f.report) {
      writeWalkForwardReport(f.report, r);
      info(`report written to ${f.report}`);
    }
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ ...walkForwardJson(r), training: r.rl.map((x) => x.training) }, finiteOrNull)}\n`);
      return;
    }
    printTable(
      r.folds.map((x, k) => ({
        fold: x.fold.index,
        train: `${day(x.fold.train.from)}..${day(x.fold.train.to)}`,
        test: `${day(x.fold.test.from)}..${day(x.fold.test.to)}`,
        'train episode sharpe': r.rl[k]!.training.recentEpisodeSharpe,
        'train sharpe': x.train.sharpe,
        'test sharpe': x.test.sharpe,
        'test return %': x.test.totalReturn * 100,
        'test trades': x.test.trades,
      })),
    );
    const s = r.oos.statistics;
    printTable([
      { statistic: 'OOS final value', value: s.finalEquity },
      { statistic: 'OOS total return %', value: s.totalReturn * 100 },
      { statistic: 'OOS sharpe', value: s.sharpe },
      { statistic: 'OOS max drawdown %', value: s.maxDrawdown * 100 },
      { statistic: 'OOS trades', value: s.trades },
    ]);
  } finally {
    results?.close();
    bars.close();
  }
}
