/**
 * The signals provider a runner config names (universe-runner.ts): DuckDB (a table of a store) and
 * the drop folder read a DuckDB store, the replay's own by default; ClickHouse reads its password
 * from the environment, never from the config.
 */
import { ConfigError } from '../../lib/core/errors.js';
import { ClickHouseSignalProvider } from '../../lib/signals/clickhouse-provider.js';
import { DropFolderSignalProvider } from '../../lib/signals/drop-folder.js';
import { DuckDbSignalProvider } from '../../lib/signals/duckdb-provider.js';
import type { SignalProvider } from '../../lib/signals/provider.js';
import { Store } from '../../lib/store/store.js';
import type { RunnerConfig } from './config.js';
import { SIGNALS_PASSWORD_ENV, type SignalsSettings } from './config-schema-signals.js';

export interface OpenedSignalProvider {
  provider: SignalProvider;
  /** Stores opened for it (not the replay's): closed with the runner */
  stores: Store[];
}

/** Opens the provider of `signals`; `replayStore` is the default store (replay), `env` holds the ClickHouse password */
export async function openSignalProvider(
  signals: SignalsSettings,
  o: { config: RunnerConfig; replayStore?: Store | undefined; env?: Readonly<Record<string, string | undefined>> | undefined },
): Promise<OpenedSignalProvider> {
  const s = signals;
  const stores: Store[] = [];
  const store = async (): Promise<Store> => {
    if (s.db === undefined || (o.replayStore !== undefined && s.db === o.config.replay?.db)) {
      if (o.replayStore === undefined) throw new ConfigError('monger run', ['signals.db: required outside replay']);
      return o.replayStore;
    }
    const opened = await Store.open(s.db);
    stores.push(opened);
    return opened;
  };
  let provider: SignalProvider;
  if (s.provider === 'clickhouse') {
    const password = (o.env ?? process.env)[SIGNALS_PASSWORD_ENV];
    provider = new ClickHouseSignalProvider({ url: s.url!, ...(s.database ? { database: s.database } : {}), ...(s.table ? { table: s.table } : {}), ...(s.username ? { username: s.username } : {}), ...(password ? { password } : {}) });
  } else if (s.provider === 'folder') provider = new DropFolderSignalProvider(await store(), { folder: s.folder!, onError: 'skip' });
  else provider = new DuckDbSignalProvider(await store(), s.table ? { table: s.table } : {});
  return { provider, stores };
}
