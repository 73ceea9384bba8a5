/**
 * `monger strategies ls`: every strategy module, its promoted versions (from their tags: params,
 * gates, backtest and out-of-sample statistics) and the version a runner last ran (from the runner
 * journals: `--journal`, default every data/journal*.duckdb).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { lastRunsFromJournal, listStrategies, type LastRun, type StrategyListing } from '../../../lib/promotion/catalog.js';
import { repoRoot } from '../../../lib/promotion/git.js';
import { Store } from '../../../lib/store/store.js';
import { info, printJson, printTable } from '../output.js';

interface Flags {
  json?: boolean;
  journal?: string[];
}

export function registerStrategiesCommands(program: Command): void {
  const strategies = program.command('strategies').description('Strategy modules, their promoted versions and what the runners ran');
  strategies
    .command('ls')
    .description('List strategies: promoted versions with gates and statistics, working-tree version, last run')
    .option('--journal <files...>', 'runner journal stores to read the last runs from (default: data/journal*.duckdb)')
    .option('--json', 'print JSON')
    .action(async (flags: Flags) => {
      const repo = repoRoot(process.cwd());
      const runs = new Map<string, LastRun>();
      for (const path of flags.journal ?? defaultJournals()) {
        let store: Store | undefined;
        try {
          store = await Store.open(path);
          await lastRunsFromJournal(store, runs);
        } catch (e) {
          // a running runner holds its journal's lock: its last run is then simply not shown
          info(`strategies ls: cannot read journal ${path}: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          store?.close();
        }
      }
      const list = await listStrategies(repo, runs);
      if (flags.json) printJson(list);
      else printTable(rows(list));
    });
}

function defaultJournals(): string[] {
  if (!existsSync('data')) return [];
  return readdirSync('data').filter((f) => /^journal.*\.duckdb$/.test(f)).sort().map((f) => join('data', f));
}

function rows(list: readonly StrategyListing[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of list) {
    const ran = (version: string) => (s.lastRun?.version === version ? `${s.lastRun.mode} ${s.lastRun.startedAt.slice(0, 19)}Z` : '');
    for (const p of s.promoted) {
      out.push({
        strategy: s.name,
        version: p.version,
        promoted: p.problem ? `invalid: ${p.problem.split('\n')[0]}` : p.promotedAt.slice(0, 10),
        commit: p.commit.slice(0, 12),
        'oos sharpe': p.statistics.oos?.sharpe,
        'oos maxdd %': p.statistics.oos === undefined ? undefined : p.statistics.oos.maxDrawdown * 100,
        'oos trades': p.statistics.oos?.trades,
        'bt sharpe': p.statistics.backtest?.sharpe,
        'bt trades': p.statistics.backtest?.trades,
        gates: p.gates.map((g) => `${g.gate} ${g.threshold}`).join(', '),
        'last run': ran(p.version),
      });
    }
    const dev = s.lastRun?.version.endsWith('-dev') ? s.lastRun.version : undefined;
    out.push({
      strategy: s.name,
      version: `${s.workingVersion ?? '?'} (working tree)`,
      promoted: s.manifestProblem ? `not promotable: ${s.manifestProblem}` : '',
      commit: '',
      'oos sharpe': undefined,
      'oos maxdd %': undefined,
      'oos trades': undefined,
      'bt sharpe': undefined,
      'bt trades': undefined,
      gates: '',
      'last run': dev ? `${dev} ${ran(dev)}` : '',
    });
  }
  return out;
}
