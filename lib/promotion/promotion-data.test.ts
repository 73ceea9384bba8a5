import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../store/store.js';
import { loadManifest } from './manifest.js';
import { loadPromotionData } from './promotion-data.js';

describe('loadPromotionData', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('closes its in-memory store when a data file is missing or cannot be imported', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'monger-promotion-data-'));
    dirs.push(repo);
    // not a format importFiles knows (no LEAN path, no Yahoo header, no --interval for generic CSV)
    writeFileSync(join(repo, 'bad.csv'), 'hello\nworld\n');
    const manifest = loadManifest(join(process.cwd(), 'strategies', 'sma-cross'));
    const close = vi.spyOn(Store.prototype, 'close');
    for (const files of [['missing.csv'], ['bad.csv']]) {
      close.mockClear();
      await expect(loadPromotionData({ ...manifest, data: { ...manifest.data, files } }, repo, undefined)).rejects.toThrow();
      expect(close).toHaveBeenCalledTimes(1);
    }
  });
});
