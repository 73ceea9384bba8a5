/**
 * How `monger symbol|status|halt|resume` reach the running runner's control API
 * (runner/live/control-api.ts): the address and token from `--port` / `--host` / `--token`, else from
 * the runner's config (`--config runner.yaml`: control.host, control.port, control.token), the token
 * else from $MONGER_CONTROL_TOKEN. A refusal prints why and exits 5 (nothing changed); a runner that
 * cannot be reached is an error (CONTROL_UNREACHABLE).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { loadRunnerConfig } from '../../live/config.js';
import { CONTROL_TOKEN_ENV } from '../../live/config-schema-signals.js';
import { ControlClient, type ControlAnswer } from '../../live/control-client.js';
import { EXIT } from '../exit-codes.js';
import { printJson } from '../output.js';

export interface ControlFlags {
  config?: string;
  host?: string;
  port?: string;
  token?: string;
  json?: boolean;
}

/** The client for the flags; `command` names the command in a usage error */
export function controlClient(flags: ControlFlags, command: string): ControlClient {
  const config = flags.config !== undefined ? loadRunnerConfig(flags.config) : undefined;
  const host = flags.host ?? config?.control.host ?? '127.0.0.1';
  const port = Number(flags.port ?? config?.control.port);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new ConfigError(command, [`--port: the runner's control port is needed (--port N, or --config runner.yaml with control.port set; a runner on port 0 logs the port it picked)`]);
  }
  const token = flags.token ?? config?.control.token ?? process.env[CONTROL_TOKEN_ENV];
  if (token === undefined || token === '') throw new ConfigError(command, [`--token: required (or control.token in --config, or $${CONTROL_TOKEN_ENV})`]);
  return new ControlClient(host, port, token);
}

/** Prints the answer (`--json`: as JSON); a refusal goes to stderr with its code and sets exit code 5 */
export function reportAnswer(a: ControlAnswer, flags: ControlFlags, ok: (body: Record<string, unknown>) => void): void {
  const body = a.body as Record<string, unknown>;
  if (a.status >= 400) {
    const err = (body?.error ?? {}) as { code?: string; message?: string };
    process.stderr.write(`refused (${a.status}${err.code ? ` ${err.code}` : ''}): ${err.message ?? JSON.stringify(a.body)}\n`);
    process.exitCode = EXIT.CHECK_FAILED;
    if (flags.json) printJson(a.body);
    return;
  }
  if (flags.json) return printJson(a.body);
  ok(body);
}

/** The connection flags every control command takes */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'the runner config (control.host, control.port, control.token)')
    .option('--host <host>', 'control API host (default 127.0.0.1)')
    .option('--port <port>', 'control API port')
    .option('--token <token>', `control API token (default $${CONTROL_TOKEN_ENV})`)
    .option('--json', 'print the JSON answer');
}
