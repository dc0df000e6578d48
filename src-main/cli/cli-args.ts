import { parseArgs } from 'node:util';

/** The command line, parsed and checked: every mistake becomes a UsageError with one plain sentence (exit code 2). */

export type CliCommand =
  | { command: 'help' }
  | { command: 'version' }
  | ({ command: 'sync'; mode: 'once' | 'watch'; dryRun: boolean; confirmDeletions: boolean; users: string[] } & CommonOptions)
  | ({ command: 'check'; audit: boolean; users: string[] } & CommonOptions)
  | ({ command: 'status' } & CommonOptions)
  | ({ command: 'restore'; list: boolean; ids: string[]; users: string[] } & CommonOptions);

export interface CommonOptions {
  json: boolean;
  configFile: string | null;
  dataDir: string | null;
  demo: boolean;
  /** With --demo: the demo firm on Exchange Online (the Graph simulator) instead of on-premises Exchange (EWS). */
  exchangeOnline: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: severa-calendar-sync <command> [options]

Commands:
  sync [--once | --watch]   run one cycle (default) or keep syncing on the configured interval
       --dry-run            print what would change on each side and change nothing
       --confirm-deletions  carry out deletions held by the mass-deletion guard
       --user <email>       only this enrolled user (repeatable)
  check                     run the activation diagnostics
       --audit              instead: compare every synced entry on both sides, field by field
                            (with --user <email>: only that user)
  status                    show the last cycle and the schedule
  restore --list            list deletions the sync made (journal)
  restore <journal-id>...   bring deleted items back
       --user <email>       with --list: only this user's entries

Options:
  --config <file>           organization settings (JSON); default: <data-dir>/config.json
  --data-dir <dir>          sync state and status; default: $SCS_DATA_DIR or ~/.severa-calendar-sync
  --demo                    run against built-in Exchange and Severa simulators with a demo firm
                            (data dir default: .sync-data/demo)
  --exchange-online         with --demo: the demo firm on Exchange Online (Microsoft Graph) instead
                            (data dir default: .sync-data/demo-online)
  --json                    machine-readable output
  -h, --help                this text
  --version                 the version

Secrets come from the OS keychain, else from SCS_EXCHANGE_PASSWORD, SCS_SEVERA_CLIENT_SECRET, SCS_GRAPH_CLIENT_SECRET.
Exit codes: 0 ok, 1 sync or check errors, 2 bad usage or settings.`;

const COMMANDS = ['sync', 'check', 'status', 'restore'] as const;

/** Which flags each command accepts, beyond the common ones. */
const COMMAND_FLAGS: Record<(typeof COMMANDS)[number], string[]> = {
  sync: ['once', 'watch', 'dry-run', 'confirm-deletions', 'user'],
  check: ['audit', 'user'],
  status: [],
  restore: ['list', 'user'],
};

export function parseCliArgs(argv: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        once: { type: 'boolean' },
        watch: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'confirm-deletions': { type: 'boolean' },
        user: { type: 'string', multiple: true },
        list: { type: 'boolean' },
        audit: { type: 'boolean' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        demo: { type: 'boolean' },
        'exchange-online': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    // node:util's messages name the option; drop its hint about '--' which means nothing to our users.
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '.') : String(error);
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError('Name a command: sync, check, status or restore.');
  if (name === 'help') return { command: 'help' };
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`Unknown command "${name}"; expected sync, check, status or restore.`);
  const command = name as (typeof COMMANDS)[number];

  for (const flag of ['once', 'watch', 'dry-run', 'confirm-deletions', 'user', 'list'] as const) {
    if (values[flag] !== undefined && !COMMAND_FLAGS[command].includes(flag)) throw new UsageError(`--${flag} does not apply to "${command}".`);
  }
  const common: CommonOptions = {
    json: values.json ?? false,
    configFile: nonEmpty(values.config, '--config'),
    dataDir: nonEmpty(values['data-dir'], '--data-dir'),
    demo: values.demo ?? false,
    exchangeOnline: values['exchange-online'] ?? false,
  };
  if (common.demo && common.configFile) throw new UsageError('--demo writes its own settings; leave out --config.');
  if (common.exchangeOnline && !common.demo) throw new UsageError('--exchange-online chooses the demo\'s Exchange; use it with --demo.');
  const users = (values.user ?? []).map((u) => {
    const email = u.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError(`--user "${u}" is not an email address.`);
    return email;
  });

  switch (command) {
    case 'sync': {
      if (rest.length > 0) throw new UsageError(`"sync" takes no arguments, but got "${rest.join(' ')}".`);
      if (values.once && values.watch) throw new UsageError('Choose one of --once and --watch.');
      const mode = values.watch ? 'watch' : 'once';
      if (mode === 'watch' && values['dry-run']) throw new UsageError('--dry-run previews one cycle; use it with --once.');
      if (mode === 'watch' && values['confirm-deletions']) throw new UsageError('--confirm-deletions confirms one cycle\'s held deletions; use it with --once.');
      return { command, mode, dryRun: values['dry-run'] ?? false, confirmDeletions: values['confirm-deletions'] ?? false, users, ...common };
    }
    case 'check':
      if (rest.length > 0) throw new UsageError(`"check" takes no arguments, but got "${rest.join(' ')}".`);
      if (users.length > 0 && !values.audit) throw new UsageError('--user chooses whom "check --audit" compares; the diagnostics check everyone.');
      return { command, audit: values.audit ?? false, users, ...common };
    case 'status':
      if (rest.length > 0) throw new UsageError(`"${command}" takes no arguments, but got "${rest.join(' ')}".`);
      return { command, ...common };
    case 'restore': {
      const list = values.list ?? false;
      if (list && rest.length > 0) throw new UsageError('Use either --list or journal ids, not both.');
      if (!list && rest.length === 0) throw new UsageError('Name the journal entries to restore (see "restore --list"), or use --list.');
      if (!list && users.length > 0) throw new UsageError('--user filters "restore --list"; to restore, name journal ids.');
      return { command, list, ids: rest, users, ...common };
    }
  }
}

function nonEmpty(value: string | undefined, flag: string): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new UsageError(`${flag} needs a value.`);
  return value;
}
