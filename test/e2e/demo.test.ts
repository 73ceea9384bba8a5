import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

// The README's first quick-start command, run as a newcomer would (into a throwaway store)
it('runs npm run demo end to end: imports, loads the watchlist, audits, prints sessions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monger-demo-'));
  try {
    const r = spawnSync(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/demo.ts'], {
      encoding: 'utf8',
      env: { ...process.env, MONGER_DB: join(dir, 'demo.duckdb'), FORCE_COLOR: '0' },
    });
    const output = r.stdout + r.stderr;
    expect(r.status, output).toBe(0);
    // every bundled daily series is audited; SPY covers all 5,849 sessions 1998-01-02..2021-03-31
    expect(output).toMatch(/SPY\s+1d\s+trade\s+XNYS\s+5,849\s+5,849\s+5,849\s+100\.00%/);
    expect(output).toContain("watchlist 'default'");
    expect(output).toContain('not in the store (no instrument yet): MSFT');
    expect(output).toContain('2024-11-29T18:00:00Z');
    expect(output).toMatch(/sma-cross 1\.0\.0: [\d,]+ bars, \d+ orders/);
    expect(output).toContain('report written to data/reports/sma-cross.html');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
