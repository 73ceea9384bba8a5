// The demo's promotion part (issue 7): promote → tag → run from the tag → parity of the promoted
// version (backtest vs runner, decision by decision), a refused promotion and a refused live run. Promotion commits and tags, so all of it happens in a THROWAWAY git repository
// (a copy of the project, lib/promotion/throwaway-repo.ts), never in the user's checkout; its
// store, strategy cache, journal and configs live in that copy's git-ignored .demo/ folder.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { $ } from 'zx';
import { createPromotionRepo } from '../lib/promotion/throwaway-repo.js';

const section = (title: string) => console.log(`\n=== promotion: ${title} ===`);

/** Fails the demo when a step's outcome is not the one shown (it would be demonstrating nothing) */
function expectOutcome(ok: boolean, what: string): void {
  if (ok) return;
  // demo.ts exits quietly on errors (steps print their own): say what went wrong first
  console.error(`demo: unexpected outcome: ${what}`);
  throw Object.assign(new Error(what), { exitCode: 1 });
}

export async function promotionDemo(): Promise<void> {
  const started = Date.now();
  section('a throwaway git repository holding a copy of the project (your checkout is never tagged)');
  const source = resolve('.');
  const repo = createPromotionRepo(source);
  try {
    const work = join(repo.dir, '.demo');
    mkdirSync(work);
    appendFileSync(join(repo.dir, '.git', 'info', 'exclude'), '.demo\n');
    console.log(repo.dir);
    const r$ = $({ cwd: repo.dir, env: { ...process.env, MONGER_DB: '', MONGER_CACHE: join(work, 'cache'), IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '' } });
    const monger = ['node', 'bin/monger.js', '--db', '.demo/store.duckdb'];

    section('1. promote sma-cross 1.0.0: its tests, a backtest, a walk-forward, the gates, then the tag');
    await r$`${monger} promote sma-cross --version 1.0.0`;
    repo.commitAll('sma-cross 1.0.0 release record');
    await r$`git tag -n1 -l strategy/*`;

    section('2. sma-cross 1.0.1 with a gate it cannot pass (minTrades: 1000): refused, nothing tagged');
    const manifest = 'strategies/sma-cross/manifest.yaml';
    const code = 'strategies/sma-cross/index.ts';
    repo.write(manifest, readFileSync(join(repo.dir, manifest), 'utf8').replace('version: 1.0.0', 'version: 1.0.1').replace('minTrades: 40', 'minTrades: 1000'));
    repo.write(code, readFileSync(join(repo.dir, code), 'utf8').replace("version: '1.0.0'", "version: '1.0.1'"));
    repo.commitAll('sma-cross 1.0.1: minTrades 1000');
    const refused = await r$`${monger} promote sma-cross --version 1.0.1`.nothrow();
    expectOutcome(refused.exitCode === 5 && refused.stderr.includes('PROMOTE_GATES_FAILED') && refused.stderr.includes('- minTrades:'), `promote 1.0.1 exited ${refused.exitCode}, expected 5 naming minTrades`);
    console.log(`refused as expected (exit ${refused.exitCode}); tags: ${repo.git('tag', '-l').trim().split('\n').join(', ')}`);

    section('3. replay the promoted 1.0.0 from its tag while the working tree is 1.0.1');
    const replay = parseYaml(readFileSync(join(repo.dir, 'runner/examples/replay.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    replay.journal!.path = '.demo/journal.duckdb';
    replay.replay!.speed = 3600; // an hour of session per second
    replay.logging = { level: 'warn' };
    writeFileSync(join(work, 'replay.yaml'), toYaml(replay));
    const run = await r$`${monger} run --config .demo/replay.yaml --strategy sma-cross@1.0.0 --duration 3h`;
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as { strategy: string; version: string; orders: { total: number }; fills: number; equity: number; journal: { runId: string } };
    expectOutcome(summary.version === '1.0.0', `the run from the tag carries version ${summary.version}`);
    console.log(`ran ${summary.strategy} ${summary.version} from tag strategy/sma-cross/v1.0.0: ${summary.orders.total} orders, ${summary.fills} fills, equity ${summary.equity}, journal run ${summary.journal.runId}`);

    section('4. parity of the promoted 1.0.0: backtest vs the runner against the simulator, decision by decision');
    // the bundled minutes of SPY and IBM, read from this checkout (with their map files: the copy has
    // none); two sessions of two stocks keep the step to a few seconds. Limits: step 3's (--config)
    const minutes = join(source, 'data/lean/equity/usa/minute');
    await r$`${monger} data import ${join(minutes, 'spy')} ${join(minutes, 'ibm')}`;
    const parity = await r$`${monger} parity --strategy sma-cross@1.0.0 --symbols SPY,IBM --from 2013-10-08 --to 2013-10-09 --config .demo/replay.yaml`.nothrow();
    expectOutcome(parity.exitCode === 0 && parity.stdout.includes('(version 1.0.0)') && parity.stdout.includes('EMPTY DIFF'), `parity of sma-cross@1.0.0 exited ${parity.exitCode}, expected 0 with an empty diff`);

    section('5. a live config naming no promoted version: refused before anything connects');
    const live = parseYaml(readFileSync(join(repo.dir, 'runner/examples/paper.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    live.mode = 'live' as never;
    Object.assign(live.ib!, { port: 4001, account: 'U1234567' });
    delete live.strategy!.version; // = the working tree's code
    live.journal!.path = '.demo/live-journal.duckdb';
    live.health!.port = 0;
    writeFileSync(join(work, 'live.yaml'), toYaml(live));
    const liveRun = await r$`${monger} run --config .demo/live.yaml`.nothrow();
    expectOutcome(liveRun.exitCode === 2 && liveRun.stderr.includes('STRATEGY_LIVE_REFUSED'), `live run exited ${liveRun.exitCode}, expected 2 with STRATEGY_LIVE_REFUSED`);
    console.log(`refused as expected (exit ${liveRun.exitCode})`);

    section('6. strategies ls: promoted versions with gates and statistics, the working tree, the last run');
    await r$`${monger} strategies ls --journal .demo/journal.duckdb`;
    console.log(`\npromotion part took ${((Date.now() - started) / 1000).toFixed(1)} s; removing ${repo.dir}`);
  } finally {
    repo.remove();
  }
}
