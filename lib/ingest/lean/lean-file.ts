import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { futureSpec } from '../../data/futures.js';
import { stockSpec } from '../../data/instrument.js';
import { emptyParsedFile, type ParsedFile } from '../../data/parsed-file.js';
import { parseLeanBars } from './lean-bars.js';
import { parseLeanFactorFile, parseLeanMapFile, type MapFileInfo } from './lean-factors.js';
import type { LeanFile } from './lean-path.js';
import { parseLeanTicks } from './lean-ticks.js';

/** Map files read so far in one import, by path (absent files cached as undefined) */
export type MapFileCache = Map<string, MapFileInfo | undefined>;

function mapFileFor(root: string, symbol: string, cache: MapFileCache): MapFileInfo | undefined {
  const path = join(root, 'equity', 'usa', 'map_files', `${symbol.toLowerCase()}.csv`);
  if (!cache.has(path)) cache.set(path, existsSync(path) ? parseLeanMapFile(readFileSync(path), path, symbol) : undefined);
  return cache.get(path);
}

/** Reads one LEAN file of any supported kind into a ParsedFile. */
export function parseLeanFile(buf: Uint8Array, file: string, lean: LeanFile, mapFiles: MapFileCache): ParsedFile {
  const out = emptyParsedFile(file, `lean-${lean.type}`, 'lean');
  switch (lean.type) {
    case 'equity-bars': {
      const map = mapFileFor(lean.root, lean.symbol, mapFiles);
      out.instruments.push(stockSpec(lean.symbol, map?.exchange ?? 'SMART'));
      if (map) out.validity.push(map.validity);
      else out.notes.push(`${file}: no map file for ${lean.symbol} beside the data; all rows kept`);
      const r = parseLeanBars(buf, { file, instrumentKey: lean.symbol, resolution: lean.resolution, data: lean.data, assetClass: 'equity', date: lean.date, validFrom: map?.validity.validFrom });
      out.bars.push(...r.series);
      out.rowsRead = r.rowsRead;
      out.notes.push(...r.notes);
      return out;
    }
    case 'equity-ticks': {
      const map = mapFileFor(lean.root, lean.symbol, mapFiles);
      out.instruments.push(stockSpec(lean.symbol, map?.exchange ?? 'SMART'));
      const r = parseLeanTicks(buf, file, lean.symbol, lean.date, lean.data);
      out.ticks.push(r.ticks);
      out.rowsRead = r.rowsRead;
      return out;
    }
    case 'future-bars': {
      const spec = futureSpec(lean.symbol, lean.contractMonth);
      out.instruments.push(spec);
      if (lean.data === 'openinterest') {
        out.notes.push(`${file}: open-interest files are not bars; skipped`);
        return out;
      }
      const r = parseLeanBars(buf, { file, instrumentKey: spec.key, resolution: lean.resolution, data: lean.data, assetClass: 'future', date: lean.date });
      out.bars.push(...r.series);
      out.rowsRead = r.rowsRead;
      out.notes.push(...r.notes);
      return out;
    }
    case 'factor-file': {
      const map = mapFileFor(lean.root, lean.symbol, mapFiles);
      out.instruments.push(stockSpec(lean.symbol, map?.exchange ?? 'SMART'));
      out.corporateActions.push(...parseLeanFactorFile(buf, file, lean.symbol));
      out.rowsRead = out.corporateActions.length;
      return out;
    }
    case 'not-imported':
      out.notes.push(`${file}: skipped (${lean.why})`);
      return out;
    case 'map-file': {
      const map = parseLeanMapFile(buf, file, lean.symbol);
      out.instruments.push(stockSpec(lean.symbol, map.exchange ?? 'SMART'));
      out.validity.push(map.validity);
      out.rowsRead = 1;
      return out;
    }
  }
}
