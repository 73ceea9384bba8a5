import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const tags = () => execFileSync('git', ['tag', '-l'], { encoding: 'utf8' });

// The README's first quick-start command, run as a newcomer would (into a throwaway store)
it('runs npm run demo end to end: imports, audits, backtests, then promotes, replays and checks parity in a throwaway repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monger-demo-'));
  const tagsBefore = tags();
  try {
    const r = spawnSync(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/demo.ts'], {
      encoding: 'utf8',
      env: { ...process.env, MONGER_DB: join(dir, 'demo.duckdb'), FORCE_COLOR: '0' },
    });
    const output = r.stdout + r.stderr;
    expect(r.status, output.slice(-4000)).toBe(0);
    // every bundled daily series is audited; SPY covers all 5,849 sessions 1998-01-02..2021-03-31
    expect(output).toMatch(/SPY\s+1d\s+trade\s+XNYS\s+5,849\s+5,849\s+5,849\s+100\.00%/);
    expect(output).toContain("watchlist 'default'");
    expect(output).toContain('not in the store (no instrument yet): MSFT');
    expect(output).toContain('2024-11-29T18:00:00Z');
    expect(output).toMatch(/sma-cross 1\.0\.0: [\d,]+ bars, \d+ orders/);
    expect(output).toContain('report written to data/reports/sma-cross.html');

    // promotion, in a copy of the project: 1.0.0 promoted and tagged there (`git tag -n1` prints the
    // annotated tag's subject), with the manifest's golden figures (82 round trips, OOS Sharpe 0.727)
    const repo = /=== promotion: a throwaway git repository[^\n]*\n(\S+)\n/.exec(output)?.[1];
    expect(repo, output).toBeDefined();
    expect(output).toMatch(/promoted sma-cross 1\.0\.0: tag strategy\/sma-cross\/v1\.0\.0 on [0-9a-f]{12}/);
    expect(output).toContain('strategy/sma-cross/v1.0.0 sma-cross 1.0.0: OOS Sharpe 0.727, 52 OOS trades');
    // 1.0.1 refused by the gate it cannot pass, and not tagged
    expect(output).toContain('monger: error PROMOTE_GATES_FAILED: sma-cross 1.0.1 is not promoted: 1 of 5 gate(s) failed');
    expect(output).toContain('  - minTrades: backtest round trips 82 is below the minimum 1000 by 918');
    expect(output).toContain('refused as expected (exit 5); tags: strategy/sma-cross/v1.0.0\n');
    // the replay from the tag: its summary (the runner's last stdout line) carries 1.0.0 and traded
    const summaryLine = output.split('\n').find((l) => l.startsWith('{"mode":"replay"'));
    expect(summaryLine, output).toBeDefined();
    const summary = JSON.parse(summaryLine!) as { strategy: string; version: string; orders: { total: number }; stopReason: string };
    expect(summary).toMatchObject({ strategy: 'sma-cross', version: '1.0.0' });
    expect(summary.orders.total).toBeGreaterThan(0);
    // parity of the promoted 1.0.0 (loaded from its tag, the working tree being 1.0.1): the backtest and
    // the runner against the simulator did the same, event by event, and traded (counts are per kind)
    // (the report is the command's stdout, which zx echoes to stderr: cut it out by its first and last line)
    const parity = /^parity sma-cross@1\.0\.0 \(version 1\.0\.0\) 1m SPY,IBM 2013-10-08T00:00:00Z \.\. 2013-10-09T23:59:59\.999Z\n[\s\S]*?^elapsed: /m.exec(output)?.[0];
    expect(parity, output).toBeDefined();
    expect(parity).toMatch(/EMPTY DIFF: the runner did exactly what the backtest did, [\d]+ events, decision by decision\./);
    const counts = new Map([...parity!.matchAll(/^(warmup|bar|decision|order|fill|state) +(\d+) +(\d+) +(\d+) +(\d+)$/gm)].map((m) => [m[1], m.slice(2).map(Number)]));
    expect([...counts.keys()]).toEqual(['warmup', 'bar', 'decision', 'order', 'fill', 'state']);
    for (const [kind, [backtest, runner, onlyBacktest, onlyRunner]] of counts) {
      expect({ kind, runner, onlyBacktest, onlyRunner }).toEqual({ kind, runner: backtest, onlyBacktest: 0, onlyRunner: 0 });
      if (kind !== 'order') expect(backtest, kind).toBeGreaterThan(0); // orders: only cancels/rejects
    }
    // live with working-tree code: refused, naming the promoted version to run instead
    expect(output).toContain("monger: error STRATEGY_LIVE_REFUSED: live trading runs only promoted code: 'sma-cross' names the working tree");
    expect(output).toContain('promoted versions of sma-cross: 1.0.0');
    expect(output).toContain('refused as expected (exit 2)');
    // strategies ls: the promoted 1.0.0 (gates, last run in replay) and the 1.0.1 working tree
    expect(output).toMatch(/sma-cross\s+1\.0\.0\s+\d{4}-\d{2}-\d{2}\s+[0-9a-f]{12}\s+0\.726\d+.*minTrades 40\s+replay /);
    expect(output).toMatch(/sma-cross\s+1\.0\.1 \(working tree\)/);
    // the copy is gone and this checkout was never tagged
    expect(existsSync(repo!)).toBe(false);
    expect(tags()).toBe(tagsBefore);
    expect(existsSync('strategies/sma-cross/releases/1.0.1.json')).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
