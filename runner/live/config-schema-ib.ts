/**
 * `mode` and `ib`: which IB session the runner may talk to. IB's default ports are checked against
 * the mode (7496 TWS and 4001 Gateway trade real money, 7497 and 4002 are paper), and so are
 * account ids (a leading D is a paper account); `IB_HOST` / `IB_PORT` / `IB_CLIENT_ID` from the
 * environment replace the file's values before validation.
 */
import type { z } from 'zod';
import { integer, pattern, port, section, text } from './config-schema-util.js';
import { mappingAt, type Env, type Validation } from './config-validation.js';

export const MODES = ['paper', 'live', 'replay'] as const;
export type RunnerMode = (typeof MODES)[number];

/** IB's default API ports and what they trade */
export const LIVE_PORTS: Readonly<Record<number, string>> = { 7496: 'TWS live-trading', 4001: 'IB Gateway live-trading' };
export const PAPER_PORTS: Readonly<Record<number, string>> = { 7497: 'TWS paper-trading', 4002: 'IB Gateway paper-trading' };

/** IB account ids: U1234567 (individual), F…/I… (advisor, institution); a leading D marks a paper account */
const ACCOUNT_RE = /^D?[UFI]\d{4,10}$/;

export const ENV_OVERRIDES = { IB_HOST: 'host', IB_PORT: 'port', IB_CLIENT_ID: 'clientId' } as const;

export const ibSchema = section({
  host: text('a host name or IP address').default('127.0.0.1'),
  port: port().optional(),
  clientId: integer('a client id (integer 0..2147483647)', (n) => n >= 0 && n <= 2_147_483_647).optional(),
  account: pattern('an IB account id like U1234567 (live) or DU1234567 (paper)', ACCOUNT_RE).optional(),
});
export type IbSettings = z.output<typeof ibSchema>;

/** The document with `ib.host/port/clientId` replaced by the set environment variables (recorded in `v.fromEnv`) */
export function applyEnvOverrides(doc: Record<string, unknown>, env: Env, v: Validation): Record<string, unknown> {
  const entries = Object.entries(ENV_OVERRIDES).filter(([name]) => (env[name] ?? '').trim() !== '');
  if (entries.length === 0) return doc;
  const ib = doc.ib;
  // a malformed ib section is reported as it is; the environment cannot repair it
  if (ib !== undefined && (ib === null || typeof ib !== 'object' || Array.isArray(ib))) return doc;
  const merged: Record<string, unknown> = { ...(ib as Record<string, unknown> | undefined) };
  for (const [name, key] of entries) {
    const value = env[name]!.trim();
    // numbers stay strings when they are not plain integers, so the problem shows what was given
    merged[key] = key === 'host' ? value : /^-?\d+$/.test(value) ? Number(value) : value;
    v.fromEnv.set(`ib.${key}`, name);
  }
  return { ...doc, ib: merged };
}

/** Port, client id and account against the mode (runs only when both parsed) */
export function checkIb(mode: RunnerMode | undefined, ib: IbSettings | undefined, doc: Record<string, unknown>, v: Validation): void {
  if (mode === undefined || ib === undefined) return;
  const livePort = ib.port !== undefined ? LIVE_PORTS[ib.port] : undefined;
  const paperPort = ib.port !== undefined ? PAPER_PORTS[ib.port] : undefined;
  const paperAccount = ib.account?.startsWith('D');
  if (mode === 'paper' || mode === 'live') {
    if (ib.port === undefined) {
      v.problem(['ib', 'port'], mode === 'paper' ? 'required for mode paper (the API port of a paper session: 7497 TWS, 4002 IB Gateway)' : 'required for mode live (the API port of a live session: 7496 TWS, 4001 IB Gateway)');
    }
    if (ib.clientId === undefined) v.problem(['ib', 'clientId'], `required for mode ${mode} (a fixed client id lets a restarted runner see and manage its own open orders)`);
  }
  if (mode === 'paper') {
    if (livePort) v.problem(['ib', 'port'], `${ib.port} is the ${livePort} port but mode is paper; use 7497 (TWS paper) or 4002 (IB Gateway paper), or set mode: live to trade real money`);
    if (ib.account !== undefined && !paperAccount) v.problem(['ib', 'account'], `${ib.account} is a live-trading account but mode is paper; paper account ids start with D (DU1234567)`);
  }
  if (mode === 'live') {
    if (paperPort) v.problem(['ib', 'port'], `${ib.port} is the ${paperPort} port but mode is live; use 7496 (TWS live) or 4001 (IB Gateway live), or set mode: paper`);
    if (ib.account === undefined) v.problem(['ib', 'account'], 'required for mode live (the account id the runner trades, e.g. U1234567)');
    else if (paperAccount) v.problem(['ib', 'account'], `${ib.account} is a paper-trading account (ids starting with D) but mode is live; use the live account id (U1234567) or set mode: paper`);
  }
  if (mode === 'replay') {
    if (livePort) v.problem(['ib', 'port'], `${ib.port} is the ${livePort} port; replay connects only to the TWS simulator`);
    if (ib.account !== undefined && !paperAccount) v.problem(['ib', 'account'], `${ib.account} is a live-trading account; replay runs against the simulator with a paper account id (DU1234567)`);
    const connect = mappingAt(doc, 'replay')?.connect === true;
    if (connect && ib.port === undefined) v.problem(['ib', 'port'], 'required with replay.connect: true (the port of the running simulator)');
    if (!connect && ib.port !== undefined && !livePort) {
      v.problem(['ib', 'port'], 'not used in replay mode: the runner starts the simulator on replay.simulator.port; set replay.connect: true to connect to a running simulator at ib.host:ib.port instead');
    }
  }
}
