import type { Command } from 'commander';
import { registerAuditCommand } from './data-audit.js';
import { registerFetchCommand } from './data-fetch.js';
import { registerImportCommand } from './data-import.js';
import { registerInspectCommands } from './data-inspect.js';
import { registerWatchlistCommands } from './watchlist.js';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Import, list, query and audit market data in the DuckDB store');
  registerImportCommand(data);
  registerInspectCommands(data);
  registerAuditCommand(data);
  registerWatchlistCommands(data);
  registerFetchCommand(data);
}
