/**
 * An env dataset from the DuckDB store: the universe (symbols or a watchlist), its bars aligned on
 * the union of their timestamps (a symbol without a bar at a time is unusable there, so episodes
 * simply leave it out), and a feature set computed per instrument over its whole history and
 * cached in the store (`loadFeatures`), so warm-up never eats into the requested range.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { parseWatchlist } from '../../data/watchlist.js';
import { loadFeatureSetFile } from '../../features/feature-set.js';
import { loadFeatures } from '../../features/feature-store.js';
import { loadAlignedBars } from '../../store/bar-query.js';
import { findInstruments } from '../../store/instruments.js';
import { Store } from '../../store/store.js';
import type { StoreDataConfig } from './config.js';
import { buildDataset, type EnvDataset } from './dataset.js';

export interface StoreDatasetOptions {
  volWindow: number;
  periodsPerYear: number;
  clip: number;
  /** An open store to read (else `cfg.db` is opened and closed) */
  store?: Store;
}

/** The universe's symbols: the config's list or its watchlist file, uppercased. */
export function universeSymbols(cfg: StoreDataConfig): string[] {
  if (cfg.symbols) return [...new Set(cfg.symbols.map((s) => s.trim().toUpperCase()))];
  const path = resolve(cfg.watchlist!);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new ConfigError('data.watchlist', [`data.watchlist: cannot read ${path}: ${(e as Error).message}`]);
  }
  return parseWatchlist(buf, path).symbols;
}

export async function storeDataset(cfg: StoreDataConfig, opts: StoreDatasetOptions): Promise<EnvDataset> {
  const set = loadFeatureSetFile(resolve(cfg.featureSet));
  const columns = cfg.columns ?? set.columns;
  const unknown = columns.filter((c) => !set.columns.includes(c));
  if (unknown.length) throw new ConfigError('data.columns', [`data.columns: ${unknown.join(', ')} not in feature set ${set.name} (has ${set.columns.join(', ')})`]);
  const pick = columns.map((c) => set.columns.indexOf(c));
  const store = opts.store ?? (await Store.open(cfg.db));
  try {
    let symbols = universeSymbols(cfg);
    const known = await findInstruments(store, symbols);
    const missing = symbols.filter((s) => !known.has(s));
    if (missing.length && cfg.missing === 'error') {
      throw new ConfigError('data.symbols', [`data.${cfg.symbols ? 'symbols' : 'watchlist'}: the store ${store.path} does not know ${missing.join(', ')} (import them, or set data.missing: skip)`]);
    }
    symbols = symbols.filter((s) => known.has(s));
    if (symbols.length === 0) throw new ConfigError('data.symbols', [`data: none of the universe's symbols is in the store ${store.path}`]);
    const query = { symbols, interval: cfg.interval, adjusted: cfg.adjusted, from: cfg.from, to: cfg.to };
    const bars = await loadAlignedBars(store, { ...query, align: 'union' });
    const frames = await loadFeatures(store, { set, ...query });
    const T = bars.ts.length;
    const features = frames.map((fr) => {
      const out = pick.map(() => new Float64Array(T).fill(NaN));
      // both time indexes sorted: one merge pass
      let j = 0;
      for (let t = 0; t < T && j < fr.ts.length; t++) {
        while (j < fr.ts.length && fr.ts[j]! < bars.ts[t]!) j++;
        if (j < fr.ts.length && fr.ts[j] === bars.ts[t]) for (let k = 0; k < pick.length; k++) out[k]![t] = fr.frame.values[pick[k]!]![j]!;
      }
      return out;
    });
    return buildDataset({
      ts: bars.ts,
      symbols,
      specs: symbols.map((s) => known.get(s)!),
      columns,
      features,
      close: bars.close,
      volWindow: opts.volWindow,
      periodsPerYear: opts.periodsPerYear,
      clip: opts.clip,
      featureSetHash: set.hash,
    });
  } finally {
    if (!opts.store) store.close();
  }
}
