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
    else if (entries.length === 0) io.stdout('The journal holds no deletion.');
    else {
      io.stdout(
        formatTable(
          ['id', 'user', 'deleted in', 'start', 'subject', 'deleted at', 'restored'],
          entries.map((e) => [e.id, e.email, e.side === 'exchange' ? 'Exchange' : 'Severa', e.start, e.subject, e.deletedAt, e.restored ? 'yes' : 'no']),
        ),
      );
      io.stdout('\nRestore with: severa-calendar-sync restore <id> [<id>...]');
    }
    return 0;
  }
  const results = await runner.restoreDeletions(command.ids);
  if (command.json) io.stdout(JSON.stringify(results, null, 2));
  else for (const r of results) io.stdout(`${r.ok ? 'restored' : 'not restored'}  ${r.id}: ${r.message ?? ''}`);
  return results.every((r) => r.ok) ? 0 : 1;
}
