import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { MemorySeries } from '../backtest/memory-data-client.js';
import { canonicalJson } from '../backtest/run-backtest.js';
import { importFiles } from '../ingest/import-files.js';
import { loadBars } from '../store/bar-query.js';
import { Store } from '../store/store.js';
import { sha256, type FileDigest } from './content-hash.js';
import type { Manifest } from './manifest.js';

/** The data a promotion ran on, as the record freezes it */
export interface PromotionDataInfo {
  /** `files`: the manifest's bar files imported into a throwaway store; `store`: the given store */
  source: 'files' | 'store';
  /** The store's path (source `store`) */
  store?: string;
  /** The manifest's files, repository-relative, with their content hashes (source `files`) */
  files?: FileDigest[];
  symbols: string[];
  interval: string;
  kind: string;
  adjusted: boolean;
  from: string;
  to: string;
  /** Per instrument: bars loaded (every bar up to `to`: earlier ones warm indicators up) and their time range */
  bars: Record<string, { count: number; first: string | null; last: string | null }>;
  /** sha256 over every loaded bar (instrument spec, time and OHLCV bytes): the data snapshot */
  sha256: string;
}

export interface PromotionData {
  series: MemorySeries[];
  info: PromotionDataInfo;
}

/**
 * Loads the bars the manifest names into memory: from its files (imported into an in-memory store,
 * so the promotion depends only on the repository) or, without files, from `store`. Everything up to
 * `data.to` is loaded; the backtest and the walk-forward start at `data.from` and use earlier bars as
 * warm-up only. The snapshot hash covers exactly what was loaded.
 */
export async function loadPromotionData(manifest: Manifest, repo: string, store: Store | undefined): Promise<PromotionData> {
  const d = manifest.data;
  let source: Store | undefined = store;
  let files: FileDigest[] | undefined;
  let owned: Store | undefined;
  if (d.files !== undefined) owned = await Store.open(':memory:');
  // everything after the open is inside the try: a missing or bad file must not leak the store
  try {
    if (owned !== undefined && d.files !== undefined) {
      source = owned;
      const paths = d.files.map((f) => join(repo, f));
      files = d.files.map((f, i) => {
        const content = readFileSync(paths[i]!);
        return { path: f, sha256: sha256(content), bytes: content.byteLength };
      });
      await importFiles(owned, paths);
    }
    if (source === undefined) throw new ConfigError('promotion data', ['the manifest lists no data.files, so a store is needed (--db)']);
    const blocks = await loadBars(source, { symbols: d.symbols, interval: d.interval, kind: d.kind, adjusted: d.adjusted, to: d.to });
    const h = createHash('sha256');
    const bars: PromotionDataInfo['bars'] = {};
    const series: MemorySeries[] = blocks.map(({ instrument, length, ts, open, high, low, close, volume }) => {
      const { instrumentId: _id, validFrom: _vf, validTo: _vt, ...spec } = instrument;
      h.update(`${canonicalJson(spec)}|${d.interval}|${d.kind}|${length}\n`);
      for (const col of [ts, open, high, low, close, volume]) h.update(new Uint8Array(col.buffer, col.byteOffset, length * 8));
      bars[spec.key] = { count: length, first: length > 0 ? iso(ts[0]!) : null, last: length > 0 ? iso(ts[length - 1]!) : null };
      return { instrument: spec, interval: d.interval, kind: d.kind, bars: { length, ts, open, high, low, close, volume } };
    });
    const empty = Object.entries(bars).filter(([, b]) => b.count === 0).map(([k]) => k);
    if (empty.length > 0) throw new ConfigError('promotion data', [`no ${d.interval} bars up to ${d.to} for ${empty.join(', ')}`]);
    const info: PromotionDataInfo = {
      source: files !== undefined ? 'files' : 'store',
      ...(files !== undefined ? { files } : { store: source.path }),
      symbols: [...d.symbols],
      interval: d.interval,
      kind: d.kind,
      adjusted: d.adjusted,
      from: d.from,
      to: d.to,
      bars,
      sha256: h.digest('hex'),
    };
    return { series, info };
  } finally {
    owned?.close();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
