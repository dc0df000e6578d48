import type { SyncRunner } from '../runner/sync-runner.ts';
import type { CliCommand } from './cli-args.ts';
import type { CliIo } from '../cli.ts';

/** `restore --list | <journal-id>...` (wired to the deletion journal once the engine's restore lands). */
export async function runRestoreCommand(_runner: SyncRunner, _command: Extract<CliCommand, { command: 'restore' }>, io: CliIo): Promise<number> {
  io.stderr('Restore is not available in this build yet.');
  return 1;
}
