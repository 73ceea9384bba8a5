/**
 * Fault injection for `monger gateway-sim`: the `--control-port` wiring of the running simulator
 * (quote book and market data wrapped so faults can reach them, the HTTP control API) and the
 * `monger gateway-sim fault <name>` client that calls that API and prints its JSON answer.
 */
import type { Command } from 'commander';
import { ConfigError, WorkbenchError } from '../../../lib/core/errors.js';
import type { Logger } from '../../../lib/core/logger.js';
import type { Store } from '../../../lib/store/store.js';
import { ControlHttpServer, FAULT_NAMES } from '../../tws-sim/control-http.js';
import { simFeatures } from '../../tws-sim/features.js';
import { FaultInjector, faultableFeatures, FreezableQuoteBook } from '../../tws-sim/faults.js';
import type { TwsSimulator } from '../../tws-sim/server.js';
import type { SimFeature } from '../../tws-sim/types.js';
import { EXIT } from '../exit-codes.js';
import { printJson } from '../output.js';

/** The token may come from the environment instead of the command line. */
export const TOKEN_ENV = 'MONGER_GATEWAY_SIM_TOKEN';

/** The simulator's features prepared for fault injection, and how to start the control API over them. */
export function controlledFeatures(store: Store): {
  features: SimFeature[];
  startControl(sim: TwsSimulator, options: { port: number; token?: string | undefined; logger: Logger }): Promise<{ url: string; token: string; stop(): Promise<void> }>;
} {
  let quotes: FreezableQuoteBook | undefined;
  // the injector exists only once the simulator does: orders ask it through this late binding
  let injector: FaultInjector | undefined;
  const orderFaults = { takeRejection: () => injector?.takeRejection() };
  const base = simFeatures(store, { wrapQuotes: (book) => (quotes = new FreezableQuoteBook(book)), orderFaults });
  const { features, resettable } = faultableFeatures(base);
  return {
    features,
    async startControl(sim, options) {
      const faults = new FaultInjector(sim, { quotes, resettable, logger: options.logger });
      injector = faults;
      const http = new ControlHttpServer({ faults, port: options.port, token: options.token, logger: options.logger });
      const { url, token } = await http.start();
      return {
        url,
        token,
        async stop() {
          await http.stop();
          faults.close();
        },
      };
    },
  };
}

interface FaultFlags {
  control: string;
  token?: string;
  seconds?: string;
  symbol?: string;
  off?: boolean;
  dataLost?: boolean;
  farm?: string;
  state?: string;
  count?: string;
  reason?: string;
  ms?: string;
}

export function registerGatewaySimFaultCommand(gatewaySim: Command): void {
  gatewaySim
    .command('fault')
    .description(`Inject a fault into a running gateway-sim through its control API and print the JSON answer; <name> is one of ${FAULT_NAMES.join(', ')} or status`)
    .argument('<name>', 'fault to inject (or status)')
    .requiredOption('--control <url>', 'control API address printed by gateway-sim (http://127.0.0.1:<port>)')
    .option('--token <t>', `control token printed by gateway-sim (default $${TOKEN_ENV})`)
    .option('--seconds <n>', 'refuse-connections: seconds to refuse; nightly-reset: seconds down')
    .option('--symbol <sym>', 'freeze-symbol: instrument key (SPY, 6E-202403)')
    .option('--off', 'freeze-symbol: thaw the symbol instead')
    .option('--data-lost', 'connectivity-restored: 1101 (subscriptions dropped) instead of 1102')
    .option('--farm <farm>', 'farm-flap: usfarm, ushmds or secdefnj')
    .option('--state <state>', 'farm-flap: broken, ok or inactive')
    .option('--count <n>', 'reject-next-orders: how many orders')
    .option('--reason <text>', 'reject-next-orders: rejection reason')
    .option('--ms <n>', 'slow-responses: delay of every outgoing message')
    .action(async (name: string, flags: FaultFlags) => {
      const token = flags.token ?? (process.env[TOKEN_ENV] || undefined);
      if (!token) throw new ConfigError('gateway-sim fault', [`--token or $${TOKEN_ENV} is required`]);
      if (name !== 'status' && !(FAULT_NAMES as string[]).includes(name)) {
        throw new ConfigError('gateway-sim fault', [`unknown fault '${name}': use one of ${FAULT_NAMES.join(', ')} or status`]);
      }
      const base = flags.control.replace(/\/+$/, '');
      const url = name === 'status' ? `${base}/status` : `${base}/faults/${name}`;
      const init: RequestInit = { method: name === 'status' ? 'GET' : 'POST', headers: { Authorization: `Bearer ${token}` } };
      if (name !== 'status') {
        init.headers = { ...init.headers, 'Content-Type': 'application/json' };
        init.body = JSON.stringify(faultBody(name, flags));
      }
      let res: Response;
      try {
        res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
      } catch (e) {
        throw new ControlUnreachableError(`cannot reach ${url}: ${causeMessage(e)}`);
      }
      const text = await res.text();
      try {
        printJson(JSON.parse(text));
      } catch {
        process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
      if (!res.ok) process.exitCode = res.status >= 500 ? EXIT.INTERNAL : EXIT.USAGE;
    });
}

/** The control API was not reachable (wrong address, gateway-sim not running). */
export class ControlUnreachableError extends WorkbenchError {
  readonly code = 'CONTROL_UNREACHABLE';
}

/** The JSON body of a fault from the flags; the API validates it (400 names a bad field). */
function faultBody(name: string, flags: FaultFlags): Record<string, unknown> {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  switch (name) {
    case 'refuse-connections':
      return { seconds: num(flags.seconds) };
    case 'nightly-reset':
      return { downSeconds: num(flags.seconds) };
    case 'connectivity-restored':
      return { dataLost: flags.dataLost === true };
    case 'farm-flap':
      return { farm: flags.farm, state: flags.state };
    case 'freeze-symbol':
      return { symbol: flags.symbol, on: flags.off !== true };
    case 'reject-next-orders':
      return { count: num(flags.count), reason: flags.reason };
    case 'slow-responses':
      return { ms: num(flags.ms) };
    default:
      return {};
  }
}

function causeMessage(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
