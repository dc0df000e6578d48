import { parseArgs } from 'node:util';
import { LANGUAGES, languageFromEnvironment, t } from '../common/i18n/i18n.ts';
import type { Language } from '../common/i18n/i18n.ts';

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

/** One line of the usage text: the syntax (never translated, but for its <placeholders>) and what it does. */
type UsageRow = [syntax: string, description: string] | [syntax: string, description: string, more: string];

/** The usage text in the current language; the syntax column stays as typed, the descriptions are translated. */
export function usage(): string {
  const m = (key: 'email' | 'file' | 'dir' | 'journalId') => t(`cli.usage.meta.${key}`);
  const sub = (syntax: string) => `     ${syntax}`;
  const commands: UsageRow[] = [
    ['sync [--once | --watch]', t('cli.usage.sync')],
    [sub('--dry-run'), t('cli.usage.dryRun')],
    [sub('--confirm-deletions'), t('cli.usage.confirmDeletions')],
    [sub(`--user ${m('email')}`), t('cli.usage.syncUser')],
    ['check', t('cli.usage.check')],
    [sub('--audit'), t('cli.usage.audit'), t('cli.usage.auditUser', { email: m('email') })],
    ['status', t('cli.usage.status')],
    ['restore --list', t('cli.usage.restoreList')],
    [`restore ${m('journalId')}...`, t('cli.usage.restore')],
    [sub(`--user ${m('email')}`), t('cli.usage.restoreUser')],
  ];
  const options: UsageRow[] = [
    [`--config ${m('file')}`, t('cli.usage.config')],
    [`--data-dir ${m('dir')}`, t('cli.usage.dataDir')],
    ['--demo', t('cli.usage.demo'), t('cli.usage.demoDir')],
    ['--exchange-online', t('cli.usage.exchangeOnline'), t('cli.usage.exchangeOnlineDir')],
    [`--language ${LANGUAGES.join('|')}`, t('cli.usage.language')],
    ['--json', t('cli.usage.json')],
    ['-h, --help', t('cli.usage.help')],
    ['--version', t('cli.usage.version')],
  ];
  const width = 26;
  const lines = (rows: UsageRow[]) =>
    rows.flatMap(([syntax, description, more]) => [
      `  ${syntax.length < width ? syntax.padEnd(width) : `${syntax}  `}${description}`,
      ...(more ? [`${' '.repeat(width + 2)}${more}`] : []),
    ]);
  return [
    t('cli.usage.title'),
    '',
    t('cli.usage.commands'),
    ...lines(commands),
    '',
    t('cli.usage.options'),
    ...lines(options),
    '',
    t('cli.usage.secrets'),
    t('cli.usage.exitCodes'),
  ].join('\n');
}

/**
 * The language the command line speaks: `--language en|fi|sv` (looked for before the rest is parsed, so even a usage
 * error is said in it), else the environment's as POSIX orders it (LC_ALL, LC_MESSAGES, LANG; 'C' and unknown ones:
 * English). A --language value that is no language is left to parseCliArgs to refuse.
 */
export function cliLanguage(argv: readonly string[], env: Record<string, string | undefined>): Language {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const value = argv[i] === '--language' ? argv[i + 1] : argv[i].startsWith('--language=') ? argv[i].slice('--language='.length) : undefined;
    if (value !== undefined && (LANGUAGES as readonly string[]).includes(value)) return value as Language;
  }
  return languageFromEnvironment(env);
}

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
        language: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(parseErrorText(error));
  }
  const { values, positionals } = parsed;
  if (values.language !== undefined && !(LANGUAGES as readonly string[]).includes(values.language)) {
    throw new UsageError(t('cli.args.badLanguage', { value: values.language, languages: LANGUAGES.join(', ') }));
  }
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(t('cli.args.nameCommand'));
  if (name === 'help') return { command: 'help' };
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(t('cli.args.unknownCommand', { name }));
  const command = name as (typeof COMMANDS)[number];

  for (const flag of ['once', 'watch', 'dry-run', 'confirm-deletions', 'user', 'list'] as const) {
    if (values[flag] !== undefined && !COMMAND_FLAGS[command].includes(flag)) throw new UsageError(t('cli.args.flagNotForCommand', { flag: `--${flag}`, command }));
  }
  const common: CommonOptions = {
    json: values.json ?? false,
    configFile: nonEmpty(values.config, '--config'),
    dataDir: nonEmpty(values['data-dir'], '--data-dir'),
    demo: values.demo ?? false,
    exchangeOnline: values['exchange-online'] ?? false,
  };
  if (common.demo && common.configFile) throw new UsageError(t('cli.args.demoNoConfig'));
  if (common.exchangeOnline && !common.demo) throw new UsageError(t('cli.args.onlineNeedsDemo'));
  const users = (values.user ?? []).map((u) => {
    const email = u.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError(t('cli.args.notEmail', { value: u }));
    return email;
  });

  switch (command) {
    case 'sync': {
      if (rest.length > 0) throw new UsageError(t('cli.args.noArguments', { command, args: rest.join(' ') }));
      if (values.once && values.watch) throw new UsageError(t('cli.args.onceOrWatch'));
      const mode = values.watch ? 'watch' : 'once';
      if (mode === 'watch' && values['dry-run']) throw new UsageError(t('cli.args.dryRunOnce'));
      if (mode === 'watch' && values['confirm-deletions']) throw new UsageError(t('cli.args.confirmOnce'));
      return { command, mode, dryRun: values['dry-run'] ?? false, confirmDeletions: values['confirm-deletions'] ?? false, users, ...common };
    }
    case 'check':
      if (rest.length > 0) throw new UsageError(t('cli.args.noArguments', { command, args: rest.join(' ') }));
      if (users.length > 0 && !values.audit) throw new UsageError(t('cli.args.userForAudit'));
      return { command, audit: values.audit ?? false, users, ...common };
    case 'status':
      if (rest.length > 0) throw new UsageError(t('cli.args.noArguments', { command, args: rest.join(' ') }));
      return { command, ...common };
    case 'restore': {
      const list = values.list ?? false;
      if (list && rest.length > 0) throw new UsageError(t('cli.args.listOrIds'));
      if (!list && rest.length === 0) throw new UsageError(t('cli.args.nameEntries'));
      if (!list && users.length > 0) throw new UsageError(t('cli.args.userForList'));
      return { command, list, ids: rest, users, ...common };
    }
  }
}

function nonEmpty(value: string | undefined, flag: string): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new UsageError(t('cli.args.needsValue', { flag }));
  return value;
}

/**
 * node:util's parse errors in the current language: its messages are English and name the option
 * ("Unknown option '--x'. To specify a positional argument...", "Option '--config <value>' argument missing").
 */
function parseErrorText(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (option && code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return t('cli.args.unknownOption', { option });
  if (option && code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /argument missing/.test(message) ? t('cli.args.missingValue', { option }) : t('cli.args.takesNoValue', { option });
  }
  return t('cli.args.unreadable', { why: message.replace(/\. To specify a positional argument.*$/s, '.') });
}
