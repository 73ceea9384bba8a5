/**
 * `monger status`, `monger halt [--instrument SYM] --reason TEXT`, `monger resume SOURCE
 * [--instrument SYM] [--confirm]`: the running runner's halts through its control API
 * (runner/live/control-api.ts; the rules in runner/live/supervisor-operator.ts). Connection flags as
 * `monger symbol` (control-connection.ts). A refusal (unknown source, not in force, confirm missing,
 * a halt that lifts itself, unknown instrument) prints why and exits 5; nothing changed.
 */
import type { Command } from 'commander';
import type { HaltAnswer, HaltView, OperatorStatus, ResumeAnswer } from '../../live/supervisor-operator.js';
import { formatValue, info, printTable } from '../output.js';
import { controlClient, reportAnswer, withConnection, type ControlFlags } from './control-connection.js';

const where = (h: Pick<HaltView, 'instrument'>) => h.instrument ?? 'whole book';
const LIFT: Record<HaltView['lift'], string> = { operator: 'monger resume', 'operator-confirm': 'monger resume --confirm', automatic: 'by itself' };

function printHalts(halts: readonly HaltView[]): void {
  if (halts.length === 0) return info('no halts in force');
  printTable(halts.map((h) => ({ source: h.source, instrument: where(h), since: h.since + (h.restored ? ' (restored)' : ''), lifted: LIFT[h.lift], detail: h.detail })));
}

export function registerHaltCommands(program: Command): void {
  withConnection(program.command('status').description("The running runner: run, halts in force (who lifts each), positions, working orders, sessions, account")).action(async (flags: ControlFlags) => {
    const a = await controlClient(flags, 'monger status').status();
    reportAnswer(a, flags, (b) => {
      const s = b as unknown as OperatorStatus;
      info(`run ${s.runId}: ${s.strategy} in ${s.mode} mode${s.connection !== undefined ? `, IB ${s.connection}` : ''}, engine time ${s.now}`);
      const acct = s.account;
      info(`account: equity ${formatValue(acct.equity)}, P&L since the baseline ${formatValue(acct.cumulativePnl)}, drawdown ${formatValue(acct.drawdownPct)}% from the peak ${formatValue(acct.peakEquity)}${acct.flattening ? `, closing every position (${acct.flattening})` : ''}`);
      info(s.halted ? 'whole book HALTED for new entries' : 'whole book trading');
      printHalts(s.halts);
      info(`positions (${s.positions.length}), working orders: ${s.workingOrders}`);
      if (s.positions.length > 0) printTable(s.positions.map((p) => ({ ...p })));
      const sessions = Object.entries(s.sessions);
      if (sessions.length > 0) printTable(sessions.map(([instrument, x]) => ({ instrument, session: x.phase, close: x.close ?? '' })));
    });
  });

  withConnection(program.command('halt').description('Halt new entries of the whole book (or one instrument) now: an operator halt, journaled and kept across restarts until `monger resume operator`; exits still go'))
    .requiredOption('--reason <text>', 'why (journaled with the halt)')
    .option('--instrument <symbol>', 'halt only this instrument')
    .action(async (flags: ControlFlags & { reason: string; instrument?: string }) => {
      const a = await controlClient(flags, 'monger halt').halt(flags.reason, flags.instrument);
      reportAnswer(a, flags, (b) => {
        const r = b as unknown as HaltAnswer;
        info(r.already ? `already halted by the operator (${where(r.halted)}) since ${r.halted.since}: ${r.halted.detail} (unchanged)` : `halted (${where(r.halted)}) at ${r.halted.since}: ${r.halted.detail}`);
        printHalts(r.halts);
      });
    });

  withConnection(
    program
      .command('resume')
      .description('Lift a halt: operator (whole book or --instrument) at once; the risk halts loss:cumulative and drawdown only with --confirm (their limit is re-based on the equity now). Session, health and stale-data halts lift themselves')
      .argument('<source>', 'the halt source: operator, loss:cumulative, drawdown'),
  )
    .option('--instrument <symbol>', "lift this instrument's halt")
    .option('--confirm', 'confirm lifting a risk halt (loss:cumulative, drawdown)')
    .action(async (source: string, flags: ControlFlags & { instrument?: string; confirm?: boolean }) => {
      const a = await controlClient(flags, 'monger resume').resume(source, { ...(flags.instrument !== undefined ? { instrument: flags.instrument } : {}), confirm: flags.confirm === true });
      reportAnswer(a, flags, (b) => {
        const r = b as unknown as ResumeAnswer;
        info(`lifted ${r.lifted.source} (${where(r.lifted)}), in force since ${r.lifted.since}: ${r.lifted.detail}`);
        if (r.rebased !== undefined) info(`re-based: start equity ${formatValue(r.rebased.startEquity)}, peak equity ${formatValue(r.rebased.peakEquity)}`);
        info(r.halted ? 'the whole book is still halted by another source' : 'no whole-book halt in force');
        printHalts(r.halts);
      });
    });
}
