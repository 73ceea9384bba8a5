import { Command, CommanderError } from 'commander';
import { ConfigError, DataError, StoreError, WorkbenchError } from '../../lib/core/errors.js';
import { CalendarError } from '../../lib/calendar/index.js';
import { registerBacktestCommand } from './commands/backtest.js';
import { registerCalendarCommands } from './commands/calendar.js';
import { registerDataCommands } from './commands/data.js';
import { registerFeatureCommands } from './commands/features.js';
import { registerGatewaySimCommand } from './commands/gateway-sim.js';
import { registerHaltCommands } from './commands/halt.js';
import { registerParityCommand } from './commands/parity.js';
import { registerPromoteCommand } from './commands/promote.js';
import { registerRunCommand } from './commands/run.js';
import { registerStrategiesCommands } from './commands/strategies.js';
import { registerSymbolCommands } from './commands/symbol.js';
import { registerTrainCommand } from './commands/train.js';
import { registerWalkForwardCommand } from './commands/walkforward.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { DB_HELP } from './store-option.js';

/** Builds the `monger` command tree (exported for in-process tests). */
export function buildProgram(): Command {
  const program = new Command('monger')
    .description('monger: research trading strategies in notebooks, run them unchanged against Interactive Brokers')
    .option('--db <path>', DB_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_HELP)
    .exitOverride();
  registerDataCommands(program);
  registerCalendarCommands(program);
  registerBacktestCommand(program);
  registerWalkForwardCommand(program);
  registerFeatureCommands(program);
  registerGatewaySimCommand(program);
  registerRunCommand(program);
  registerParityCommand(program);
  registerPromoteCommand(program);
  registerStrategiesCommands(program);
  registerTrainCommand(program);
  registerSymbolCommands(program);
  registerHaltCommands(program);
  return program;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError || e instanceof CalendarError) return EXIT.USAGE;
  if (e instanceof DataError) return EXIT.DATA;
  if (e instanceof StoreError) return EXIT.STORE;
  if (e instanceof WorkbenchError) return EXIT.USAGE;
  return EXIT.INTERNAL;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; commander has already printed usage errors
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const code = exitCodeFor(e);
    const err = e as Error;
    const tag = e instanceof WorkbenchError ? `error ${e.code}` : 'internal error';
    process.stderr.write(`monger: ${tag}: ${err.message}\n`);
    if (code === EXIT.INTERNAL && err.stack) process.stderr.write(`${err.stack}\n`);
    return code;
  }
}

// `monger … | head` closes stdout early: that is not an error
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
