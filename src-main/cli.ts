#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { SecretSource } from './common/secrets-contract.ts';
import type { OrgSettings } from './common/settings-schema.ts';
import { UsageError, cliLanguage, parseCliArgs, usage } from './cli/cli-args.ts';
import { setLanguage, t } from './common/i18n/i18n.ts';
import type { CliCommand, CommonOptions } from './cli/cli-args.ts';
import { formatAudit, formatChecks, formatCycleReport, formatLastAudit, formatStatus } from './cli/cli-output.ts';
import { readSettingsFile } from './cli/settings-file.ts';
import { cliSecretSource } from './cli/cli-secret-source.ts';
import { SettingsError } from './runner/settings-problems.ts';
import { SyncRunner } from './runner/sync-runner.ts';
import type { RunnerLog } from './runner/runner-types.ts';
import { describeError } from './runner/cycle-report-builders.ts';
import { DataDirInUseError, lockDataDir } from './runner/data-dir-lock.ts';
import type { DataDirLock } from './runner/data-dir-lock.ts';

/** Commands that write the sync state take the data folder for themselves; status and check only read. */
function takeDataDir(command: Extract<CliCommand, CommonOptions>, dataDir: string): DataDirLock | null {
  if (command.command === 'status' || command.command === 'check') return null;
  const name = command.command === 'sync' ? `sync --${command.mode}` : command.command;
  return lockDataDir(dataDir, t('cli.main.lockHolder', { command: name }));
}

/**
 * severa-calendar-sync: the headless entry point (servers, cron, the demo). Runs on the same SyncRunner as the tray app.
 * Exit codes: 0 ok, 1 sync or check errors, 2 bad usage or settings. It speaks English, Finnish or Swedish: --language,
 * else LC_ALL, LC_MESSAGES, LANG (docs/cli.md, "Language"); --json keeps its keys and values in every language.
 */

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t + '\n'),
  stderr: (t) => process.stderr.write(t + '\n'),
  env: process.env,
  cwd: process.cwd(),
};

interface CliContext {
  runner: SyncRunner;
  dataDir: string;
  loadSettings: () => OrgSettings;
  close: () => Promise<void>;
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  setLanguage(cliLanguage(argv, io.env));
  let command: CliCommand;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${usage()}`);
      return 2;
    }
    throw error;
  }
  if (command.command === 'help') {
    io.stdout(usage());
    return 0;
  }
  if (command.command === 'version') {
    io.stdout(readVersion());
    return 0;
  }

  let context: CliContext;
  try {
    context = await openContext(command, io);
  } catch (error) {
    if (error instanceof SettingsError || error instanceof UsageError) {
      io.stderr(error.message);
      return 2;
    }
    if (error instanceof DataDirInUseError) {
      io.stderr(`${dataDirInUseText(error)}\n${t('cli.main.dataDirInUseFix')}`);
      return 1;
    }
    io.stderr(t('cli.main.cannotStart', { why: describeError(error) }));
    return 1;
  }
  try {
    switch (command.command) {
      case 'sync':
        return command.mode === 'once' ? await syncOnce(context, command, io) : await syncWatch(context, command, io);
      case 'check': {
        if (command.audit) {
          const audit = await context.runner.audit(command.users.length > 0 ? command.users : undefined);
          io.stdout(command.json ? JSON.stringify(audit, null, 2) : formatAudit(audit));
          return audit.users.some((u) => u.error || u.differences.some((d) => d.rule === null)) ? 1 : 0;
        }
        const results = await context.runner.check();
        io.stdout(command.json ? JSON.stringify(results, null, 2) : formatChecks(results));
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'status': {
        const status = context.runner.status();
        io.stdout(command.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        return 0;
      }
      case 'restore': {
        const { runRestoreCommand } = await import('./cli/restore-command.ts');
        return await runRestoreCommand(context.runner, command, io);
      }
    }
  } finally {
    await context.close();
  }
}

async function syncOnce(context: CliContext, command: Extract<CliCommand, { command: 'sync' }>, io: CliIo): Promise<number> {
  const report = await context.runner.runNow({
    dryRun: command.dryRun,
    confirmDeletions: command.confirmDeletions,
    users: command.users.length > 0 ? command.users : undefined,
  });
  io.stdout(command.json ? JSON.stringify(report, null, 2) : formatCycleReport(report));
  return report.outcome === 'ok' ? 0 : 1;
}

/** Keeps syncing on the interval until SIGINT/SIGTERM; prints each cycle (one JSON object per line with --json). */
async function syncWatch(context: CliContext, command: Extract<CliCommand, { command: 'sync' }>, io: CliIo): Promise<number> {
  let worst = 0;
  const stopReports = context.runner.onReport((report) => {
    if (report.outcome !== 'ok') worst = 1;
    io.stdout(command.json ? JSON.stringify(report) : `${formatCycleReport(report)}\n`);
  });
  // The automatic agreement audit (settings `audit`) runs after a scheduled cycle now and then: its outcome is printed
  // too (with --json one line {"audit": ...}), and a difference no rule explains counts as a problem for the exit code.
  const stopAudits = context.runner.onAudit((audit) => {
    if (audit.error || audit.unexplained > 0 || audit.failedUsers.length > 0) worst = 1;
    io.stdout(command.json ? JSON.stringify({ audit }) : `${formatLastAudit(audit).join('\n')}\n`);
  });
  if (!command.json) {
    const minutes = currentInterval(context);
    io.stderr(minutes === null ? t('cli.main.watchingUnknown') : t('cli.main.watching', { count: minutes }));
  }
  context.runner.startSchedule();
  await new Promise<void>((resolveStop) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  context.runner.stopSchedule();
  // A cycle under way finishes (its writes are committed per user), and an audit under way, then the process ends.
  await context.runner.settled();
  stopReports();
  stopAudits();
  return worst;
}

function currentInterval(context: CliContext): number | null {
  try {
    return context.loadSettings().intervalMinutes;
  } catch {
    return null;
  }
}

/** The data folder's lock, said in the current language (the error's own message is English, for logs). */
function dataDirInUseText(error: DataDirInUseError): string {
  const { program, pid, host, since } = error.holder;
  const params = { dataDir: error.dataDir, program, pid, host, since };
  return host !== hostname() ? t('cli.main.dataDirInUseElsewhere', params) : t('cli.main.dataDirInUse', params);
}

async function openContext(command: Extract<CliCommand, CommonOptions>, io: CliIo): Promise<CliContext> {
  const log = stderrLog(io, command.json);
  const demoDataDir = () => resolve(io.cwd, command.dataDir ?? join('.sync-data', command.exchangeOnline ? 'demo-online' : 'demo'));
  if (command.demo && command.command === 'status') {
    // The status is on disk: no need to start the simulators to show it.
    const dataDir = demoDataDir();
    const loadSettings = () => readSettingsFile(join(dataDir, 'config.json'));
    return { runner: new SyncRunner({ loadSettings, secrets: { get: async () => null }, dataDir, log }), dataDir, loadSettings, close: async () => {} };
  }
  if (command.demo) {
    const dataDir = demoDataDir();
    const lock = takeDataDir(command, dataDir);
    const { startDemoEnvironment } = await import('./cli/demo-environment.ts');
    let demo: Awaited<ReturnType<typeof startDemoEnvironment>>;
    try {
      demo = await startDemoEnvironment({ dataDir, exchange: command.exchangeOnline ? 'online' : 'on-premises', log: (line) => (command.json ? undefined : io.stderr(line)) });
    } catch (error) {
      lock?.release();
      throw error;
    }
    const runner = new SyncRunner({ loadSettings: () => readSettingsFile(demo.configPath), secrets: demo.secrets, dataDir, log, connectors: demo.connectors });
    return { runner, dataDir, loadSettings: () => readSettingsFile(demo.configPath), close: () => demo.stop().finally(() => lock?.release()) };
  }
  const dataDir = resolve(io.cwd, command.dataDir ?? io.env.SCS_DATA_DIR ?? join(homedir(), '.severa-calendar-sync'));
  const configPath = resolve(io.cwd, command.configFile ?? join(dataDir, 'config.json'));
  if (command.command !== 'status') {
    // Fail before any connection with every bad field listed; the runner re-reads the file each cycle (watch mode
    // picks up edits).
    if (!command.configFile && !existsSync(configPath)) throw new SettingsError(t('cli.main.noSettings', { path: configPath }), []);
    readSettingsFile(configPath);
  }
  const lock = takeDataDir(command, dataDir);
  const secrets: SecretSource = await cliSecretSource(io.env);
  const loadSettings = () => readSettingsFile(configPath);
  const runner = new SyncRunner({ loadSettings, secrets, dataDir, log });
  return { runner, dataDir, loadSettings, close: async () => lock?.release() };
}

/** Warnings and errors to stderr as one line each; stdout stays for the report (and clean JSON with --json). */
function stderrLog(io: CliIo, quiet: boolean): RunnerLog {
  const line = (level: 'warning' | 'error') => (obj: object, msg?: string) => {
    if (quiet && level !== 'error') return;
    const detail = Object.keys(obj).length > 0 ? ` ${JSON.stringify(obj)}` : '';
    io.stderr(t(`cli.main.${level}`, { message: `${msg ?? ''}${detail}` }));
  };
  return { info() {}, warn: line('warning'), error: line('error') };
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${t('cli.main.unexpected', { why: describeError(error) })}\n`);
      process.exitCode = 1;
    },
  );
}
