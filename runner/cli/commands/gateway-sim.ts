/**
 * `monger gateway-sim`: serves the store through the TWS API simulator so @stoqey/ib clients
 * (the live runner, notebooks, IB's own tests) connect to it as to IB Gateway. Runs until
 * SIGINT/SIGTERM, then closes clients, features and the store, and exits 0.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { createLogger, type LogRecord } from '../../../lib/core/logger.js';
import { parseIsoDate } from '../../../lib/core/time-zone.js';
import { Store } from '../../../lib/store/store.js';
import { simFeatures } from '../../tws-sim/features.js';
import { TwsSimulator } from '../../tws-sim/server.js';
import { replayClock, wallClock } from '../../tws-sim/sim-clock.js';
import type { SimClock } from '../../tws-sim/types.js';
import { out } from '../output.js';
import { dbPath } from '../store-option.js';
import { controlledFeatures, registerGatewaySimFaultCommand, TOKEN_ENV } from './gateway-sim-fault.js';

interface GatewaySimFlags {
  port: string;
  host: string;
  serverVersion: string;
  account: string;
  speed?: string;
  start?: string;
  controlPort?: string;
  controlToken?: string;
}

// A date (UTC midnight) or an instant with an explicit zone: a bare local time would depend on the machine
const START_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function registerGatewaySimCommand(program: Command): void {
  const command = program
    .command('gateway-sim')
    .description('Run the TWS API simulator over the store: @stoqey/ib connects to it like to IB Gateway (stops on SIGINT/SIGTERM)')
    .option('--port <n>', 'TCP port (0 picks a free one)', '4002')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--server-version <v>', 'TWS server version to claim: 193 or 176', '193')
    .option('--account <id>', 'account id reported to clients', 'DU1234567')
    .option('--speed <n>', 'replay speed: simulated seconds per real second')
    .option('--start <iso>', 'simulated start time (YYYY-MM-DD or ISO instant with zone); default now')
    .option('--control-port <n>', 'serve the fault-injection control API on 127.0.0.1 at this port (0 picks a free one)')
    .option('--control-token <t>', `bearer token of the control API (default $${TOKEN_ENV}, else random)`)
    .action(async (flags: GatewaySimFlags, cmd: Command) => {
      const { port, serverVersion, clock, controlPort, controlToken } = parseFlags(flags);
      // listen for signals from the start: a SIGTERM while the store opens still shuts down cleanly
      const signalled = untilSignal();
      const store = await Store.open(dbPath(cmd));
      try {
        const logger = createLogger({ level: 'info', now: Date.now, sink: logToStderr });
        const controlled = controlPort === undefined ? undefined : controlledFeatures(store);
        const sim = new TwsSimulator({
          store,
          port,
          host: flags.host,
          serverVersion,
          account: flags.account,
          clock,
          features: controlled?.features ?? simFeatures(store),
          logger,
        });
        const bound = await sim.start();
        out(`gateway-sim listening on ${flags.host}:${bound.port} (server version ${serverVersion})`);
        const control = await controlled?.startControl(sim, { port: controlPort!, token: controlToken, logger }).catch(async (e: unknown) => {
          await sim.stop();
          throw e;
        });
        if (control) out(`gateway-sim control on ${control.url} (token ${control.token})`);
        await signalled;
        await control?.stop();
        await sim.stop();
      } finally {
        store.close();
      }
    });
  registerGatewaySimFaultCommand(command);
}

function parseFlags(flags: GatewaySimFlags): { port: number; serverVersion: 193 | 176; clock: SimClock; controlPort: number | undefined; controlToken: string | undefined } {
  const problems: string[] = [];
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--port must be an integer 0..65535, was '${flags.port}'`);
  const controlPort = flags.controlPort === undefined ? undefined : Number(flags.controlPort);
  if (controlPort !== undefined && !(Number.isInteger(controlPort) && controlPort >= 0 && controlPort <= 65535)) {
    problems.push(`--control-port must be an integer 0..65535, was '${flags.controlPort}'`);
  }
  const controlToken = flags.controlToken ?? (process.env[TOKEN_ENV] || undefined);
  if (controlToken !== undefined && controlToken.length < 8) problems.push(`--control-token (or $${TOKEN_ENV}) must have at least 8 characters`);
  const serverVersion = Number(flags.serverVersion);
  if (serverVersion !== 193 && serverVersion !== 176) problems.push(`--server-version must be 193 or 176, was '${flags.serverVersion}'`);
  const speed = flags.speed === undefined ? 1 : Number(flags.speed);
  if (!Number.isFinite(speed) || speed <= 0) problems.push(`--speed must be a positive number, was '${flags.speed}'`);
  let start: number | undefined;
  if (flags.start !== undefined) {
    start = START_RE.test(flags.start) ? Date.parse(flags.start) : NaN;
    // Date.parse rolls 2024-02-30 over to March: require the date part to survive the round trip
    if (!Number.isNaN(start) && !isRealDate(flags.start.slice(0, 10))) start = NaN;
    if (Number.isNaN(start)) problems.push(`--start must be YYYY-MM-DD or an ISO instant with a zone (2024-03-01T14:30:00Z), was '${flags.start}'`);
  }
  if (problems.length) throw new ConfigError('gateway-sim', problems);
  const clock = start === undefined && speed === 1 ? wallClock() : replayClock({ start: start ?? Date.now(), speed });
  return { port, serverVersion: serverVersion as 193 | 176, clock, controlPort, controlToken };
}

function isRealDate(ymd: string): boolean {
  try {
    parseIsoDate(ymd);
    return true;
  } catch {
    return false;
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Simulator log lines go to stderr so stdout carries only the listening line. */
function logToStderr(r: LogRecord): void {
  const fields = Object.keys(r.fields).length ? ` ${JSON.stringify(r.fields)}` : '';
  process.stderr.write(`gateway-sim ${new Date(r.time).toISOString()} ${r.level} ${r.message}${fields}\n`);
}
