// The quick-start job: import the bundled real data, load the watchlist, audit, backtest, build features,
// walk forward, then promote (in a throwaway copy of the project).
// Written with zx so each step is the exact CLI command a user would type.
import { $ } from 'zx';
import { promotionDemo } from './demo-promotion.js';

$.verbose = true;
const monger = ['node', 'bin/monger.js'];

// a failing step has already printed its error: stop with its exit code, no zx stack trace
process.on('uncaughtException', (e: { exitCode?: number }) => process.exit(e.exitCode ?? 1));
process.on('unhandledRejection', (e: { exitCode?: number }) => process.exit(e.exitCode ?? 1));

await $`${monger} data import data/lean data/yahoo`;
await $`${monger} data import data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv --symbol 6E --contract-month 202403 --interval 1m`;
await $`${monger} data watchlist load data/watchlist.csv`;
await $`${monger} data ls`;
await $`${monger} data audit --interval 1d`;
await $`${monger} data audit --interval 1m --kind trade`;
await $`${monger} calendar sessions --exchange XNYS --from 2024-11-25 --to 2024-12-03`;
// the engine: sma-cross on the stored daily bars, IB commissions, a self-contained offline report
await $`${monger} backtest --strategy sma-cross --params fast=10,slow=30 --size 100 --symbols SPY,QQQ --interval 1d --commission ib-fixed --report data/reports/sma-cross.html`;
await $`${monger} backtest --strategy sma-cross --params fast=5,slow=20 --size 50 --symbols SPY,IBM,AIG,BAC --interval 1m --to 2013-10-11 --commission ib-tiered --report data/reports/sma-cross-minute.html`;
// features: a declarative set cached in the store by content hash (a rerun reuses it)
await $`${monger} features build --set data/feature-sets/core-daily.yaml --symbols SPY,QQQ,IWM,EEM --interval 1d`;
// walk-forward: grid search on rolling train windows, chosen point out of sample, on worker threads
await $`${monger} walkforward --strategy sma-cross --grid fast=5..20:5,slow=30..90:20 --params size=100 --symbols SPY,QQQ,IWM,EEM --interval 1d --folds 6 --embargo 5 --commission ib-fixed --no-progress --report data/reports/walkforward.html`;
// promotion (issue 7), in a throwaway copy of the project: promote → tag → run from the tag, parity of
// the promoted version, a refused promotion (gate failed), a refused live run of unpromoted code, strategies ls
await promotionDemo();
console.log('\nDone. Open data/reports/sma-cross.html and data/reports/walkforward.html in a browser (they work offline).');
console.log('Explore with: node bin/monger.js data bars SPY --interval 1d --from 2020-03-09 --to 2020-03-20 --adjusted');
