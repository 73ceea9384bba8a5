/**
 * `monger symbol add SYM [--no-wait]`, `monger symbol remove SYM [--immediate] [--no-flatten]`, `monger symbol list`:
 * the running runner's universe through its control API (runner/live/control-api.ts). The address
 * and token come from `--port` / `--host` / `--token`, else from the runner's config
 * (`--config runner.yaml`: control.host, control.port, control.token), the token else from
 * $MONGER_CONTROL_TOKEN. A refusal (duplicate add, unknown or invalid symbol, removing a symbol the
 * universe does not hold, a position open on --immediate) prints why and exits 5; nothing changed.
 */
import type { Command } from 'commander';
import type { ControlList } from '../../live/control-api.js';
import { info, printTable } from '../output.js';
import { controlClient, reportAnswer as report, withConnection, type ControlFlags } from './control-connection.js';

const client = (flags: ControlFlags) => controlClient(flags, 'monger symbol');

export function registerSymbolCommands(program: Command): void {
  const s = program.command('symbol').description("Add, remove and list the running runner's symbols (its control API)");
  withConnection(s.command('add').description('Add a symbol: resolved, subscribed within the line budget, warmed up, traded with the defaults merged with its overrides').argument('<symbol>'))
    .option('--no-wait', 'return once accepted instead of once its trader is ready')
    .action(async (symbol: string, flags: ControlFlags & { wait: boolean }) => {
      const a = await client(flags).add(symbol, flags.wait);
      report(a, flags, (b) => {
        const e = b.symbol as { state: string; reason?: string };
        info(`${symbol}: ${e.state}${e.reason ? ` (${e.reason})` : ''}`);
      });
    });
  withConnection(
    s
      .command('remove')
      .description('Remove a symbol: graceful stops its entries, closes its position at market (universe.removal.flatten) and leaves once flat; --immediate cancels and unsubscribes at once')
      .argument('<symbol>'),
  )
    .option('--immediate', 'cancel its orders and unsubscribe now (refused while it holds a position)')
    .option('--no-flatten', 'graceful: do not close the position; wait until it is flat by other means')
    .action(async (symbol: string, flags: ControlFlags & { immediate?: boolean; flatten: boolean }) => {
      const a = await client(flags).remove(symbol, flags.immediate === true, flags.flatten === false ? 'none' : undefined);
      report(a, flags, (b) => {
        const e = b.symbol as { state: string; reason?: string };
        info(`${symbol}: ${e.state}${e.reason ? ` (${e.reason})` : ''}`);
      });
    });
  withConnection(s.command('list').description('Every symbol of the universe: state, streams, position, working orders; lines used; who waits')).action(async (flags: ControlFlags) => {
    const a = await client(flags).list();
    report(a, flags, (b) => {
      const l = b as unknown as ControlList;
      info(`universe ${l.mode}: ${l.lines.used}/${l.lines.budget} market-data lines (peak ${l.lines.peak}), ${l.symbols.length} symbols, ${l.waiting.length} waiting`);
      printTable(
        l.symbols.map((e) => ({ symbol: e.symbol, state: e.state, origin: e.origin, l1: e.streams?.l1 ?? '-', bars: e.streams?.bars ?? '-', position: e.position, working: e.workingOrders, signals: e.delivered, reason: e.reason ?? '' })),
      );
      for (const w of l.waiting) info(`waits: ${w.symbol} (${w.reason})`);
    });
  });
}
