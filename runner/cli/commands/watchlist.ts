import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseWatchlist } from '../../../lib/data/watchlist.js';
import { findInstruments } from '../../../lib/store/instruments.js';
import { latestWatchlist, saveWatchlist } from '../../../lib/store/watchlists.js';
import { info, printJson } from '../output.js';
import { withStore } from '../store-option.js';

export function registerWatchlistCommands(data: Command): void {
  const w = data.command('watchlist').description('Versioned symbol lists (data/watchlist.csv)');
  w.command('load')
    .description('Validate a watchlist CSV (one symbol column), store it under its content-hash version, report unknown symbols')
    .argument('[file]', 'watchlist CSV', 'data/watchlist.csv')
    .option('--name <name>', 'watchlist name', 'default')
    .option('--json', 'print JSON')
    .action(async (file: string, flags: { name: string; json?: boolean }, cmd: Command) => {
      const wl = parseWatchlist(readFileSync(file), file, flags.name);
      const result = await withStore(cmd, async (store) => {
        const known = await findInstruments(store, wl.symbols);
        const unknown = wl.symbols.filter((s) => !known.has(s));
        const { stored } = await saveWatchlist(store, wl, unknown);
        return { ...wl, unknown, stored };
      });
      if (flags.json) return printJson(result);
      info(`watchlist '${result.name}' version ${result.version}: ${result.symbols.length} symbols${result.stored ? ' (new version stored)' : ' (unchanged)'}`);
      for (const d of result.duplicates) info(`  duplicate ${d.symbol} on lines ${d.lines.join(', ')} (kept once)`);
      if (result.unknown.length) info(`  ${result.unknown.length} not in the store (no instrument yet): ${result.unknown.join(', ')}`);
    });
  w.command('show')
    .description('Show the latest stored version of a watchlist')
    .option('--name <name>', 'watchlist name', 'default')
    .action(async (flags: { name: string }, cmd: Command) => {
      const wl = await withStore(cmd, (store) => latestWatchlist(store, flags.name));
      printJson(wl ?? null);
    });
}
