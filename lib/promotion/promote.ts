import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import { backtestReportInput } from '../backtest/report-input.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { saveBacktestRun } from '../backtest/save-run.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { validateStrategyParams } from '../engine/strategy-params.js';
import { parseFeatureList, resolveFeatureSet, type FeatureSet } from '../features/feature-set.js';
import { writeHtmlReport } from '../report/html-report.js';
import { writeWalkForwardReport } from '../report/walkforward-report.js';
import type { Store } from '../store/store.js';
import { saveWalkForward } from '../walkforward/save-walk-forward.js';
import { runWalkForward } from '../walkforward/walk-forward.js';
import { digestFiles, isModuleExcluded, sha256, treeHash, type FileDigest } from './content-hash.js';
import { PromotionError } from './errors.js';
import { evaluateGates, gateFailures } from './gates.js';
import { createAnnotatedTag, git, headCommit, readTreeFiles, repoRoot, tagCommit, uncommittedChanges, type TreeFile } from './git.js';
import { loadManifest, type Manifest } from './manifest.js';
import { linkNodeModules, writeCommitFiles } from './materialize.js';
import { importStrategyDefinition } from './module-import.js';
import { loadPromotionData } from './promotion-data.js';
import { deletePromotion, savePromotion } from './promotion-store.js';
import { recordJson, strategyTag, tagMessage, type ReleaseRecord } from './release-record.js';
import { isSemver } from './semver.js';
import { runStrategyTests } from './strategy-tests.js';

export interface PromoteOptions {
  /** Strategy module: the folder strategies/<name>/ */
  name: string;
  /** The version to promote: must equal the manifest's and the code's */
  version: string;
  /** Any folder inside the git repository (default: the working directory) */
  repo?: string;
  /** Where the runs and the promotion are stored (and the bars, when the manifest lists no files) */
  store: Store;
  /** Walk-forward worker threads; default 0 (this thread). Results do not depend on it. */
  workers?: number;
  /** Folder of the HTML reports (default `<repo>/data/reports/promotions`, ignored by git) */
  reportDir?: string;
  /** Wall clock of the record's promotedAt (default Date.now) */
  now?: () => number;
  /** Progress, one line per step */
  onStep?: (message: string) => void;
}

export interface PromotionResult {
  record: ReleaseRecord;
  /** Absolute path of strategies/<name>/releases/X.Y.Z.json */
  releaseFile: string;
  tag: string;
  promotionId: number;
}

/**
 * Promotes a strategy module: the same call from the CLI (`monger promote`) and from a notebook.
 *
 * 1. refuses a dirty working tree (the promotion must be exactly one commit) and an existing tag;
 * 2. reads the manifest; its version, the code's and `version` must agree; artifact and feature-set
 *    hashes must match the files of the commit;
 * 3. runs the strategy's own tests, then a backtest and a walk-forward on the manifest's data range;
 * 4. judges the manifest's gates: any failure refuses the promotion (PROMOTE_GATES_FAILED naming
 *    each gate and by how much), the attempt is stored as refused, and nothing is tagged or written;
 * 5. freezes the record in the store, in strategies/<name>/releases/X.Y.Z.json and in the annotated
 *    tag `strategy/<name>/vX.Y.Z` on the promoted commit (created last; any failure undoes the rest).
 *
 * Content hash: strategies/<name>/ (code, manifest, README, tests, artifacts; not releases/, which
 * promotions write later) from the commit's git objects. The library code it imports is pinned by
 * the commit, and its own hash (lib/) is recorded too, because the runner materializes lib/ from the
 * tag next to the module and verifies both.
 */
export async function promote(o: PromoteOptions): Promise<PromotionResult> {
  const step = o.onStep ?? (() => undefined);
  const now = o.now ?? Date.now;
  if (!isSemver(o.version)) throw new ConfigError('promote', [`--version: expected a semver version like 1.2.0, was '${o.version}'`]);
  const repo = repoRoot(resolve(o.repo ?? process.cwd()));
  const moduleDir = join(repo, 'strategies', o.name);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(o.name) || !existsSync(join(moduleDir, 'index.ts'))) {
    throw new ConfigError('promote', [`no strategy module strategies/${o.name}/index.ts in ${repo} (modules: ${moduleNames(repo).join(', ') || 'none'})`]);
  }

  // 1. one commit, one new tag
  assertClean(repo, 'a promotion names exactly one commit: commit or remove the changes first');
  const tag = strategyTag(o.name, o.version);
  const existing = tagCommit(repo, tag);
  if (existing !== undefined) throw new PromotionError('PROMOTE_TAG_EXISTS', `${tag} already exists (commit ${existing.slice(0, 12)}): a promoted version never changes; bump the version in the manifest and the code`);
  const commit = headCommit(repo);
  const tree = git(repo, ['rev-parse', `${commit}^{tree}`]).trim();
  const manifestFile = `strategies/${o.name}/manifest.yaml`;
  const releaseRel = `strategies/${o.name}/releases/${o.version}.json`;
  if (existsSync(join(repo, releaseRel))) throw new PromotionError('PROMOTE_TAG_EXISTS', `${releaseRel} exists but tag ${tag} does not: remove the stale record (git rm) or promote another version`);

  // 2. manifest, code and commit agree
  step(`checking ${manifestFile} against commit ${commit.slice(0, 12)}`);
  const manifest = loadManifest(moduleDir, manifestFile);
  const mismatches: string[] = [];
  if (manifest.name !== o.name) mismatches.push(`name: the manifest says '${manifest.name}', the folder is strategies/${o.name}/`);
  if (manifest.version !== o.version) mismatches.push(`version: the manifest says ${manifest.version}, --version is ${o.version}; bump the manifest (and the code) first`);
  const moduleFiles = stripPrefix(readTreeFiles(repo, commit, [`strategies/${o.name}`]), `strategies/${o.name}/`);
  const module = digestFiles(moduleFiles.filter((f) => !isModuleExcluded(f.path)));
  const artifacts = checkArtifacts(manifest, module, mismatches);
  const features = checkFeatures(manifest, moduleFiles, mismatches);
  // the code evaluated is the commit's, imported from a copy at a path of its own: a process that
  // imported the module before (a notebook promoting again after an edit) cannot hand back a stale one
  const copy = mkdtempSync(join(tmpdir(), `monger-promote-${o.name}-`));
  try {
    writeCommitFiles(repo, commit, o.name, copy);
    linkNodeModules(copy, repo);
    const definition = await importStrategyDefinition(join(copy, 'strategies', o.name, 'index.ts'), o.name);
    if (definition.version !== o.version) mismatches.push(`the code (strategies/${o.name}/index.ts) is version ${definition.version}, --version is ${o.version}`);
    if (mismatches.length > 0) throw new PromotionError('PROMOTE_MISMATCH', `${manifestFile} does not match the code at ${commit.slice(0, 12)}:\n${mismatches.map((m) => `  - ${m}`).join('\n')}`);
    const params = manifestParams(definition, manifest, manifestFile);
    return await runAndFreeze({ ...o, step, now, repo, moduleDir, tag, commit, tree, releaseRel, manifest, module, artifacts, features, definition, params });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Everything checked before anything runs */
interface Prepared extends PromoteOptions {
  step: (message: string) => void;
  now: () => number;
  repo: string;
  moduleDir: string;
  tag: string;
  commit: string;
  tree: string;
  releaseRel: string;
  manifest: Manifest;
  module: FileDigest[];
  artifacts: FileDigest[];
  features: ReleaseRecord['features'];
  definition: StrategyDefinition;
  params: Record<string, unknown>;
}

/** Steps 3-5: tests, runs, gates, then the record, the release file and the tag */
async function runAndFreeze(o: Prepared): Promise<PromotionResult> {
  const { step, now, repo, moduleDir, tag, commit, tree, releaseRel, manifest, module, artifacts, features, definition, params } = o;
  const lib = digestFiles(stripPrefix(readTreeFiles(repo, commit, ['lib']), 'lib/'));
  const packages = readTreeFiles(repo, commit, ['package.json', 'package-lock.json']);
  const packageHash = (p: string) => {
    const f = packages.find((x) => x.path === p);
    return f ? sha256(f.content) : null;
  };

  // 3. tests, backtest, walk-forward
  step(`running the tests of strategies/${o.name}/`);
  const tests = await runStrategyTests(repo, o.name);
  step(`tests: ${tests.passed}/${tests.tests} passed in ${tests.files} file(s)`);
  const data = await loadPromotionData(manifest, repo, o.store);
  const d = manifest.data;
  const b = manifest.backtest;
  const dataFingerprint = { sha256: data.info.sha256 };
  step(`backtest ${d.symbols.join(',')} ${d.interval} ${d.from}..${d.to} (data ${data.info.sha256.slice(0, 12)})`);
  const backtest = await runBacktest({
    strategy: definition,
    params,
    subscriptions: data.series.map((s) => ({ instrument: s.instrument.key, interval: s.interval, kind: s.kind })),
    data: new MemoryDataClient(data.series),
    from: d.from,
    to: d.to,
    cash: b.cash,
    fill: b.fill,
    commission: b.commission,
    slippageBps: b.slippageBps,
    seed: b.seed,
    dataFingerprint,
  });
  const w = manifest.walkforward;
  const workers = o.workers ?? 0;
  step(`walk-forward ${w.mode} ${w.folds} folds, grid ${w.grid} (${workers === 0 ? 'this thread' : `${workers} workers`})`);
  const wf = await runWalkForward({
    strategy: definition,
    ...(workers > 0 ? { strategyModule: join(repo, 'strategies', 'index.ts') } : {}),
    baseParams: params,
    grid: w.grid,
    split: { mode: w.mode, folds: w.folds, train: w.train, validation: w.validation, test: w.test, embargo: w.embargo },
    data: data.series,
    from: d.from,
    to: d.to,
    cash: b.cash,
    fill: b.fill,
    commission: b.commission,
    slippageBps: b.slippageBps,
    seed: b.seed,
    objective: w.objective,
    minTrades: w.minTrades,
    topK: w.topK,
    workers,
    dataFingerprint,
  });
  const backtestRunId = await saveBacktestRun(o.store, backtest);
  const walkforwardRunId = await saveWalkForward(o.store, wf);
  const reportDir = resolve(repo, o.reportDir ?? join('data', 'reports', 'promotions'));
  const reports = {
    backtest: writeHtmlReport(join(reportDir, `${o.name}-${o.version}-backtest.html`), backtestReportInput(backtest)),
    walkforward: writeWalkForwardReport(join(reportDir, `${o.name}-${o.version}-walkforward.html`), wf),
  };
  const shown = (p: string) => (relative(repo, p).startsWith('..') || isAbsolute(relative(repo, p)) ? p : relative(repo, p));

  // 4. gates
  const gates = evaluateGates(manifest.gates, { backtest: backtest.statistics, oos: wf.oos.statistics });
  const statistics = { backtest: backtest.statistics, oos: wf.oos.statistics };
  const attempt = { strategy: o.name, version: o.version, commit, contentHash: treeHash(module), dataHash: data.info.sha256, backtestRunId, walkforwardRunId, statistics, gates };
  const failures = gateFailures(gates);
  if (failures.length > 0) {
    await savePromotion(o.store, { ...attempt, status: 'refused' });
    throw new PromotionError(
      'PROMOTE_GATES_FAILED',
      `${o.name} ${o.version} is not promoted: ${failures.length} of ${gates.length} gate(s) failed\n${failures.map((f) => `  - ${f.message}`).join('\n')}\nnothing was tagged; reports: ${shown(reports.backtest)}, ${shown(reports.walkforward)}`,
      { failures },
    );
  }

  // what ran must still be the commit: a test or report writing into the tree, or a concurrent commit, would break that
  assertClean(repo, 'the tests or the runs wrote into the working tree (reports belong in a git-ignored folder)');
  if (headCommit(repo) !== commit) throw new PromotionError('PROMOTE_DIRTY_TREE', `HEAD moved from ${commit.slice(0, 12)} during the promotion; promote again`);

  // 5. freeze
  const record: ReleaseRecord = {
    schema: 1,
    name: o.name,
    version: o.version,
    description: manifest.description,
    tag,
    promotedAt: new Date(now()).toISOString(),
    git: { commit, tree },
    code: { contentHash: treeHash(module), files: module, lib: treeHash(lib), libFiles: lib.length, packageJson: packageHash('package.json'), packageLock: packageHash('package-lock.json') },
    artifacts,
    params,
    paramsSchema: paramsJsonSchema(definition),
    features,
    data: data.info,
    tests,
    backtest: { runId: backtestRunId, configHash: backtest.configHash, orders: backtest.orders.length, finalValue: backtest.finalValue, statistics: backtest.statistics },
    walkforward: {
      runId: walkforwardRunId,
      configHash: wf.configHash,
      points: wf.points.length,
      backtests: wf.backtests,
      folds: wf.folds.map((f) => ({
        fold: f.fold.index,
        train: [day(f.fold.train.from), day(f.fold.train.to)],
        test: [day(f.fold.test.from), day(f.fold.test.to)],
        params: f.params,
        testSharpe: f.test.sharpe,
        testTrades: f.test.trades,
      })),
      statistics: wf.oos.statistics,
    },
    gates,
    reports: { backtest: shown(reports.backtest), walkforward: shown(reports.walkforward) },
    manifest,
  };
  step(`freezing ${releaseRel} and tagging ${tag}`);
  const promotionId = await savePromotion(o.store, { ...attempt, status: 'promoted', record });
  const releaseFile = join(repo, releaseRel);
  try {
    mkdirSync(join(moduleDir, 'releases'), { recursive: true });
    writeFileSync(releaseFile, recordJson(record));
    createAnnotatedTag(repo, tag, commit, tagMessage(record));
  } catch (e) {
    rmSync(releaseFile, { force: true });
    await deletePromotion(o.store, promotionId);
    throw e;
  }
  return { record, releaseFile, tag, promotionId };
}

function assertClean(repo: string, why: string): void {
  const changes = uncommittedChanges(repo);
  if (changes.length === 0) return;
  const shown = changes.slice(0, 10).map((c) => `  ${c}`);
  if (changes.length > 10) shown.push(`  … and ${changes.length - 10} more`);
  throw new PromotionError('PROMOTE_DIRTY_TREE', `the working tree of ${repo} has uncommitted changes; ${why}\n${shown.join('\n')}`);
}

function moduleNames(repo: string): string[] {
  const dir = join(repo, 'strategies');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.ts'))).map((e) => e.name).sort();
}

function stripPrefix(files: TreeFile[], prefix: string): TreeFile[] {
  return files.map((f) => ({ path: f.path.slice(prefix.length), content: f.content }));
}

function checkArtifacts(manifest: Manifest, module: readonly FileDigest[], problems: string[]): FileDigest[] {
  return manifest.artifacts.flatMap((a, i) => {
    const path = a.path.replace(/^\.\//, '');
    const file = module.find((f) => f.path === path);
    if (file === undefined) {
      problems.push(`artifacts[${i}].path: ${path} is not in strategies/${manifest.name}/ at this commit (artifacts are committed with the module)`);
      return [];
    }
    if (file.sha256 !== a.sha256) problems.push(`artifacts[${i}].sha256: the manifest says ${a.sha256}, ${path} hashes to ${file.sha256}`);
    return [file];
  });
}

function checkFeatures(manifest: Manifest, moduleFiles: readonly TreeFile[], problems: string[]): ReleaseRecord['features'] {
  const f = manifest.features;
  if (f === undefined) return null;
  let set: FeatureSet;
  try {
    if (f.list !== undefined) set = parseFeatureList(f.list, manifest.name);
    else {
      const file = moduleFiles.find((x) => x.path === f.file!.replace(/^\.\//, ''));
      if (file === undefined) {
        problems.push(`features.file: ${f.file} is not in strategies/${manifest.name}/ at this commit`);
        return null;
      }
      set = resolveFeatureSet(parseYaml(file.content.toString('utf8')), f.file);
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems.map((p) => `features: ${p}`));
    return null;
  }
  if (set.hash !== f.hash) problems.push(`features.hash: the manifest says ${f.hash}, the feature set hashes to ${set.hash} (its features, params or the feature library changed)`);
  return { ...(f.list !== undefined ? { list: f.list } : { file: f.file }), hash: set.hash, columns: set.columns };
}

function manifestParams(definition: StrategyDefinition, manifest: Manifest, file: string): Record<string, unknown> {
  try {
    return validateStrategyParams(definition, manifest.params);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ConfigError(file, e.problems.map((p) => (p.startsWith('(root): ') ? `params: ${p.slice(8)}` : `params.${p}`)));
  }
}

/** The params' JSON Schema from the code's zod schema (refinements cannot be expressed: they are left out) */
function paramsJsonSchema(definition: StrategyDefinition): unknown {
  try {
    return z.toJSONSchema(definition.params, { unrepresentable: 'any', io: 'input' });
  } catch {
    return null;
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
