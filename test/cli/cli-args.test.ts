import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArgs } from '../../src-main/cli/cli-args.ts';

describe('parseCliArgs', () => {
  it('reads sync with its options; --once is the default', () => {
    expect(parseCliArgs(['sync', '--dry-run', '--json', '--user', 'Aino.Virtanen@contoso.example', '--data-dir', '/tmp/x'])).toEqual({
      command: 'sync',
      mode: 'once',
      dryRun: true,
      confirmDeletions: false,
      users: ['aino.virtanen@contoso.example'],
      json: true,
      configFile: null,
      dataDir: '/tmp/x',
      demo: false,
      exchangeOnline: false,
    });
    expect(parseCliArgs(['sync', '--watch'])).toMatchObject({ command: 'sync', mode: 'watch' });
  });

  it('reads restore with ids or --list', () => {
    expect(parseCliArgs(['restore', '12', '13'])).toMatchObject({ command: 'restore', list: false, ids: ['12', '13'] });
    expect(parseCliArgs(['restore', '--list', '--user', 'sara.nieminen@contoso.example'])).toMatchObject({ list: true, users: ['sara.nieminen@contoso.example'] });
  });

  it.each([
    [[], /Name a command/],
    [['frobnicate'], /Unknown command "frobnicate"/],
    [['sync', '--once', '--watch'], /one of --once and --watch/],
    [['sync', '--watch', '--dry-run'], /--dry-run previews one cycle/],
    [['sync', '--bogus'], /bogus/],
    [['sync', 'extra'], /takes no arguments/],
    [['check', '--dry-run'], /--dry-run does not apply to "check"/],
    [['restore'], /Name the journal entries/],
    [['restore', '--list', '5'], /either --list or journal ids/],
    [['sync', '--demo', '--config', 'x.json'], /leave out --config/],
    [['sync', '--user', 'not-an-email'], /not an email address/],
    [['sync', '--config'], /argument missing|--config/],
    [['sync', '--config', ' '], /--config needs a value/],
  ])('rejects %j with a plain message', (argv, message) => {
    expect(() => parseCliArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseCliArgs(argv as string[])).toThrow(message);
  });

  it('answers --help and --version before anything else', () => {
    expect(parseCliArgs(['sync', '--help'])).toEqual({ command: 'help' });
    expect(parseCliArgs(['--version'])).toEqual({ command: 'version' });
  });
});
