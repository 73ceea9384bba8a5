import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatistics } from '../backtest/result-types.js';
import type { Store } from '../store/store.js';
import type { GateResult } from './gates.js';
import { loadManifest } from './manifest.js';
import { promotedVersions, readRelease } from './materialize.js';
import { importStrategyDefinition } from './module-import.js';

/** One promoted version as `monger strategies ls` shows it (from its tag's record) */
export interface PromotedVersion {
  version: string;
  tag: string;
  commit: string;
  promotedAt: string;
  contentHash: string;
  params: Record<string, unknown>;
  gates: GateResult[];
  statistics: { backtest: RunStatistics; oos: RunStatistics };
  /** Set when the tag's record could not be read or verified (then the rest is empty) */
  problem?: string;
}

/** The latest run of a strategy in a runner journal */
export interface LastRun {
  /** As journaled: X.Y.Z (promoted) or X.Y.Z-dev (working tree) */
  version: string;
  mode: string;
  runId: string;
  startedAt: string;
  endedAt: string | null;
  journal: string;
}

export interface StrategyListing {
  name: string;
  /** The working tree's version: its manifest's, else its code's (null when neither can be read) */
  workingVersion: string | null;
  manifestProblem?: string;
  promoted: PromotedVersion[];
  lastRun: LastRun | null;
}

/** Folders under strategies/ holding a module (index.ts) */
export function strategyModuleNames(repo: string): string[] {
  const dir = join(repo, 'strategies');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.ts'))).map((e) => e.name).sort();
}

/**
 * Every strategy module with its promoted versions (read from the tags, the authority: a tag's
 * record is verified against the commit it points to) and the run that started last in the given
 * journals. Strategies only known from tags or journals (deleted modules) are listed too.
 */
export async function listStrategies(repo: string, lastRuns: ReadonlyMap<string, LastRun> = new Map()): Promise<StrategyListing[]> {
  const modules = strategyModuleNames(repo);
  const names = new Set(modules);
  for (const name of lastRuns.keys()) names.add(name);
  const out: StrategyListing[] = [];
  for (const name of [...names].sort()) {
    let workingVersion: string | null = null;
    let manifestProblem: string | undefined;
    if (modules.includes(name)) {
      try {
        workingVersion = loadManifest(join(repo, 'strategies', name), `strategies/${name}/manifest.yaml`).version;
      } catch (e) {
        manifestProblem = (e as Error).message.split('\n').slice(1).map((l) => l.replace(/^\s*- /, '')).join('; ');
        workingVersion = await importStrategyDefinition(join(repo, 'strategies', name, 'index.ts'), name).then((d) => d.version, () => null);
      }
    }
    const promoted = promotedVersions(repo, name).map((version): PromotedVersion => {
      try {
        const { record } = readRelease(repo, name, version);
        return {
          version,
          tag: record.tag,
          commit: record.git.commit,
          promotedAt: record.promotedAt,
          contentHash: record.code.contentHash,
          params: record.params,
          gates: record.gates,
          statistics: { backtest: record.backtest.statistics, oos: record.walkforward.statistics },
        };
      } catch (e) {
        return { version, tag: `strategy/${name}/v${version}`, commit: '', promotedAt: '', contentHash: '', params: {}, gates: [], statistics: {} as PromotedVersion['statistics'], problem: (e as Error).message };
      }
    });
    out.push({ name, workingVersion, ...(manifestProblem ? { manifestProblem } : {}), promoted, lastRun: lastRuns.get(name) ?? null });
  }
  return out;
}

/** Latest run per strategy in one journal store (journal_runs, migration 6); merged into `into` */
export async function lastRunsFromJournal(store: Store, into: Map<string, LastRun> = new Map()): Promise<Map<string, LastRun>> {
  const rows = await store.all<{ strategy: string; version: string; mode: string; run_id: string; started_at: string; ended_at: string | null }>(
    `SELECT strategy, strategy_version AS version, mode, run_id, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at,
            strftime(ended_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS ended_at
     FROM journal_runs QUALIFY row_number() OVER (PARTITION BY strategy ORDER BY started_at DESC, run_id DESC) = 1`,
  );
  for (const r of rows) {
    const prev = into.get(r.strategy);
    if (prev === undefined || prev.startedAt < r.started_at) {
      into.set(r.strategy, { version: r.version, mode: r.mode, runId: r.run_id, startedAt: r.started_at, endedAt: r.ended_at, journal: store.path });
    }
  }
  return into;
}
