/** The resolved runner configuration: every section validated, defaults filled in. */
import type { IbSettings, RunnerMode } from './config-schema-ib.js';
import type { AccountLimits, RiskSettings } from './config-schema-limits.js';
import type { DataSettings, HealthSettings, JournalSettings, LoggingSettings, SessionSettings } from './config-schema-ops.js';
import type { ReplaySettings } from './config-schema-replay.js';
import type { ControlSettings, SignalsSettings } from './config-schema-signals.js';
import type { StrategySettings, UniverseSettings } from './config-schema-strategy.js';
import type { TradingSettings } from './config-schema-trading.js';

export interface RunnerConfig {
  /** The file it was loaded from */
  source: string;
  mode: RunnerMode;
  ib: IbSettings;
  strategy: StrategySettings;
  universe: UniverseSettings;
  trading: TradingSettings;
  account: AccountLimits;
  risk: RiskSettings;
  session: SessionSettings;
  data: DataSettings;
  health: HealthSettings;
  journal: JournalSettings;
  logging: LoggingSettings;
  /** Present exactly when mode is replay */
  replay?: ReplaySettings;
  /** Where a signal-driven universe's signals come from (required with universe.mode dynamic/mixed) */
  signals?: SignalsSettings;
  /** The control API (status, operator halts and resumes, symbol add/remove/list while running); its token resolved from the environment */
  control: ControlSettings;
}
