import { Option, type Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { parseBarKind, parseInterval, type Interval } from '../../../lib/data/interval.js';
import { computeFeatures } from '../../../lib/features/compute-features.js';
import { loadFeatureSetFile, parseFeatureList } from '../../../lib/features/feature-set.js';
import { buildFeatures } from '../../../lib/features/feature-store.js';
import { FEATURES } from '../../../lib/features/registry.js';
import { loadBars } from '../../../lib/store/bar-query.js';
import { openDataSource } from '../data-source.js';
import { info, out, printTable } from '../output.js';
import { withStore } from '../store-option.js';

interface ComputeFlags {
  data: string[];
  format: string;
  symbol?: string;
  interval?: string;
  features: string;
  formatOut: string;
}

interface BuildFlags {
  set: string;
  symbols: string;
  interval: string;
  kind: string;
  adjusted?: boolean;
  force?: boolean;
}

export function registerFeatureCommands(program: Command): void {
  const features = program.command('features').description('Compute features (batch kernels identical to their streaming forms) and cache feature sets in the store');

  features
    .command('list')
    .description('The feature catalogue: names, parameters with defaults, outputs, warm-up')
    .action(() => {
      printTable(
        [...FEATURES.values()].map((f) => {
          const defaults = Object.fromEntries(f.params.map((p) => [p.name, p.default]));
          return {
            feature: f.name,
            params: f.params.map((p) => `${p.name}=${p.default}`).join(' '),
            outputs: f.outputs(defaults).map((o) => o || '(value)').join(' '),
            'warm-up (defaults)': f.lookback(defaults),
            description: f.description,
          };
        }),
      );
    });

  features
    .command('compute')
    .description('Compute features over a bar file and print one row per bar with a column per output (NaN warm-up as empty/null)')
    .requiredOption('--data <files...>', 'bar files (imported into a throwaway in-memory store)')
    .addOption(new Option('--format <format>', 'format of --data files').choices(['auto', 'yahoo', 'lean', 'csv', 'parquet']).default('auto'))
    .option('--symbol <symbol>', 'instrument of files that carry no symbol (generic CSV)')
    .option('--interval <interval>', 'bar interval when the files hold several')
    .requiredOption('--features <list>', 'features with positional params, e.g. "sma:30,ema:30,rsi:14,bbands:20:2,macd:12:26:9" (see features list)')
    .addOption(new Option('--format-out <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .action(async (f: ComputeFlags, cmd: Command) => {
      const set = parseFeatureList(f.features);
      let interval: Interval | undefined;
      if (f.interval) interval = parseInterval(f.interval);
      const source = await openDataSource('monger features compute', f, interval, cmd);
      try {
        const blocks = await loadBars(source.store, { symbols: source.symbols, interval: source.interval });
        const header = ['ts', 'instrument', ...set.columns];
        if (f.formatOut === 'csv') out(header.join(','));
        const rows: Record<string, unknown>[] = [];
        let lines: string[] = [];
        for (const bars of blocks) {
          const frame = computeFeatures(set, bars);
          for (let i = 0; i < bars.length; i++) {
            const ts = new Date(bars.ts[i]!).toISOString();
            if (f.formatOut === 'csv') {
              lines.push([ts, bars.instrument.key, ...frame.values.map((c) => csvNumber(c[i]!))].join(','));
              if (lines.length >= 4096) {
                out(lines.join('\n'));
                lines = [];
              }
            } else {
              const row: Record<string, unknown> = { ts, instrument: bars.instrument.key };
              frame.columns.forEach((name, j) => (row[name] = Number.isFinite(frame.values[j]![i]!) ? frame.values[j]![i] : null));
              rows.push(row);
            }
          }
        }
        if (f.formatOut === 'csv') {
          if (lines.length) out(lines.join('\n'));
        } else out(JSON.stringify(rows));
      } finally {
        source.store.close();
      }
    });

  features
    .command('build')
    .description('Compute a feature set (YAML/JSON file) for stored instruments and cache it in the store, keyed by its content hash')
    .requiredOption('--set <file>', 'feature-set file: name, features, normalize')
    .requiredOption('--symbols <list>', 'instruments in the store, comma-separated')
    .requiredOption('--interval <interval>', 'bar interval')
    .addOption(new Option('--kind <kind>', 'bar kind').choices(['trade', 'bid', 'ask', 'mid']).default('trade'))
    .option('--adjusted', 'split/dividend-adjusted prices')
    .option('--force', 'recompute even when the cache matches')
    .action(async (f: BuildFlags, cmd: Command) => {
      const set = loadFeatureSetFile(f.set);
      const symbols = f.symbols.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
      if (symbols.length === 0) throw new ConfigError('monger features build', ['--symbols: expected at least one instrument']);
      await withStore(cmd, async (store) => {
        const started = performance.now();
        const builds = await buildFeatures(store, { set, symbols, interval: parseInterval(f.interval), kind: parseBarKind(f.kind), adjusted: f.adjusted, force: f.force });
        info(`feature set '${set.name}' ${set.hash.slice(0, 12)}: ${set.columns.length} columns, warm-up ${set.lookback} bars, ${((performance.now() - started) / 1000).toFixed(2)} s`);
        printTable(builds.map((b) => ({ instrument: b.instrument, rows: b.rows, cache: b.cached ? 'reused' : 'computed' })));
      });
    });
}

/** Shortest round-trip text of a double; empty for NaN (warm-up) */
function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}
