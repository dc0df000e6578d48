import { t } from '../common/i18n/i18n.ts';
import type { SyncRunner } from '../runner/sync-runner.ts';
import type { CliCommand } from './cli-args.ts';
import { formatTable } from './cli-output.ts';
import type { CliIo } from '../cli.ts';

/** `restore --list [--user <email>]` and `restore <journal-id>...`: the deletion journal on the command line. */
export async function runRestoreCommand(runner: SyncRunner, command: Extract<CliCommand, { command: 'restore' }>, io: CliIo): Promise<number> {
  if (command.list) {
    const all = await runner.listDeletions(command.users.length === 1 ? command.users[0] : undefined);
    const entries = command.users.length > 1 ? all.filter((e) => command.users.includes(e.email)) : all;
    if (command.json) io.stdout(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) io.stdout(t('cli.restore.empty'));
    else {
      io.stdout(
        formatTable(
          (['id', 'user', 'deletedIn', 'start', 'subject', 'deletedAt', 'restored'] as const).map((column) => t(`cli.restore.${column}`)),
          entries.map((e) => [e.id, e.email, e.side === 'exchange' ? 'Exchange' : 'Severa', e.start, e.subject, e.deletedAt, t(e.restored ? 'cli.restore.yes' : 'cli.restore.no')]),
        ),
      );
      io.stdout(`\n${t('cli.restore.hint')}`);
    }
    return 0;
  }
  const results = await runner.restoreDeletions(command.ids);
  if (command.json) io.stdout(JSON.stringify(results, null, 2));
  else for (const r of results) io.stdout(`${t(r.ok ? 'cli.restore.done' : 'cli.restore.notDone')}  ${r.id}: ${r.message ?? ''}`);
  return results.every((r) => r.ok) ? 0 : 1;
}
