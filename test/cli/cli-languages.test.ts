import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliLanguage, parseCliArgs } from '../../src-main/cli/cli-args.ts';
import { tIn } from '../../src-main/common/i18n/i18n.ts';
import type { Language } from '../../src-main/common/i18n/i18n.ts';
import { runCli } from './cli-helpers.ts';
import type { CliRun } from './cli-helpers.ts';
import { englishInOutput } from './english-in-output.ts';

/**
 * The command line in Finnish (from the locale, LANG=fi_FI.UTF-8) and in Swedish (--language sv, over an English
 * locale), as real processes: a usage error, bad arguments, help, a settings file's problems, the demo's first sync, a
 * dry run that finds nothing, `status`, `check`, `check --audit`, `restore --list`, `status --json`. Each output is said
 * in the language (its own sentences are looked for) and holds no sentence of the English catalog whose translation
 * differs (english-in-output.ts).
 */

interface Case {
  language: Exclude<Language, 'en'>;
  how: string;
  args: string[];
  env: Record<string, string>;
}

const CASES: Case[] = [
  { language: 'fi', how: 'LANG=fi_FI.UTF-8', args: [], env: { LANG: 'fi_FI.UTF-8' } },
  { language: 'sv', how: '--language sv over LANG=en_GB.UTF-8', args: ['--language', 'sv'], env: { LANG: 'en_GB.UTF-8' } },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-languages-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectNoEnglish(run: CliRun, language: Language): void {
  const leftovers = englishInOutput(`${run.stdout}\n${run.stderr}`, language);
  expect(leftovers, `English left in the output:\n${run.stdout}\n${run.stderr}`).toEqual([]);
}

describe.each(CASES)('the command line in $language ($how)', ({ language, args, env }) => {
  const cli = (argv: string[], cwd?: string) => runCli([...argv, ...args], { env, cwd });
  const say = (key: Parameters<typeof tIn>[1], params?: Parameters<typeof tIn>[2]) => tIn(language, key, params);

  it('a usage error and its usage text', async () => {
    const run = await cli(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(say('cli.args.unknownCommand', { name: 'frobnicate' }));
    expect(run.stderr).toContain(say('cli.usage.title'));
    expect(run.stderr).toContain(say('cli.usage.exitCodes'));
    expectNoEnglish(run, language);
  });

  it('bad arguments: an unknown option, two modes, a missing value, no command', async () => {
    const unknown = await cli(['sync', '--frequency', '5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(say('cli.args.unknownOption', { option: '--frequency' }));
    expectNoEnglish(unknown, language);
    const both = await cli(['sync', '--once', '--watch']);
    expect(both.stderr).toContain(say('cli.args.onceOrWatch'));
    expectNoEnglish(both, language);
    const missing = await runCli([...args, 'sync', '--config'], { env });
    expect(missing.stderr).toContain(say('cli.args.missingValue', { option: '--config' }));
    expectNoEnglish(missing, language);
    const none = await cli([]);
    expect(none.stderr).toContain(say('cli.args.nameCommand'));
    expectNoEnglish(none, language);
  });

  it('--help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(say('cli.usage.dryRun'));
    expect(run.stdout).toContain('restore --list');
    expectNoEnglish(run, language);
  });

  it("a settings file's problems, field by field", async () => {
    const config = join(dir, `bad-${language}.json`);
    writeFileSync(config, JSON.stringify({ exchange: { serverType: 'Exchange2016', ewsUrl: 'mail.contoso.example', domain: 'CONTOSO', username: 'svc' }, severa: { clientId: '' }, intervalMinutes: 0, enrollments: [] }));
    const run = await cli(['sync', '--once', '--config', config, '--data-dir', join(dir, `data-bad-${language}`)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(say('cli.settings.notValid', { origin: config }));
    expect(run.stderr).toContain('exchange.ewsUrl:');
    expectNoEnglish(run, language);
    const absent = await cli(['check', '--config', join(dir, 'absent.json'), '--data-dir', join(dir, `data-absent-${language}`)]);
    expect(absent.stderr).toContain(say('cli.settings.cannotRead', { path: join(dir, 'absent.json'), why: say('cli.settings.missing') }));
    expectNoEnglish(absent, language);
  });

  it('the demo: a first sync, a dry run that finds nothing, status, check, the audit, the journal, and status --json unchanged', async () => {
    const cwd = join(dir, `demo-${language}`);
    mkdirSync(cwd);
    const first = await cli(['sync', '--once', '--demo'], cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(say('cli.report.cycle'));
    expect(first.stdout).toContain(say('cli.report.legend'));
    expect(first.stdout).toContain(say('report.reasons.newInSevera'));
    expect(first.stderr).toContain(say('cli.demo.exchangeSimulator', { url: '' }).trim());
    expectNoEnglish(first, language);

    const dry = await cli(['sync', '--once', '--dry-run', '--demo'], cwd);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(say('cli.report.dryRun'));
    expect(dry.stdout).toContain(say('cli.report.noChanges'));
    expectNoEnglish(dry, language);

    const status = await cli(['status', '--demo'], cwd);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(say('cli.status.state', { state: say('cli.status.states.idle') }));
    expectNoEnglish(status, language);

    const check = await cli(['check', '--demo'], cwd);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(new RegExp(say('cli.checks.allPassed', { count: 99 }).replace('99', '\\d+')));
    expectNoEnglish(check, language);

    const audit = await cli(['check', '--audit', '--demo'], cwd);
    expect(audit.code, audit.stdout).toBe(0);
    expect(audit.stdout).toContain(say('cli.audit.heading', { time: '' }).replace(/\s*:$/, '').trim());
    expectNoEnglish(audit, language);

    const journal = await cli(['restore', '--list', '--demo'], cwd);
    expect(journal.code).toBe(0);
    expect(journal.stdout).toContain(say('cli.restore.empty'));
    expectNoEnglish(journal, language);

    // --json keeps its keys and machine values in every language.
    const json = await cli(['status', '--demo', '--json'], cwd);
    const parsed = JSON.parse(json.stdout) as { state: string; lastReport: { outcome: string; users: { outcome: string }[] } };
    expect(parsed.state).toBe('idle');
    expect(parsed.lastReport.outcome).toBe('ok');
    expect(parsed.lastReport.users.every((u) => u.outcome === 'ok')).toBe(true);
  }, 240_000);
});

describe('the check itself', () => {
  it('finds English in output that should be Finnish', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.stderr).toContain('Unknown command "frobnicate"');
    const found = englishInOutput(`${run.stdout}\n${run.stderr}`, 'fi');
    expect(found.some((f) => f.startsWith('cli.args.unknownCommand:'))).toBe(true);
    expect(found.some((f) => f.startsWith('cli.usage.dryRun:'))).toBe(true);
    // A one-word table header counts as a cell of its own; the same word inside a subject does not.
    const table = 'user                 outcome\n-------------------  -------\na@contoso.example    ok\n  luotu  Exchange -> Severa  2026-12-05 06:00  Meeting with the user group';
    expect(englishInOutput(table, 'fi').filter((f) => f.startsWith('cli.report.user:'))).toHaveLength(1);
    expect(englishInOutput(table, 'fi', new Set(['user'])).filter((f) => f.startsWith('cli.report.user:'))).toEqual([]);
  });

  it('runs the other CLI tests in English: the helper sets LANG=C over any locale the machine has', async () => {
    const run = await runCli(['sync', '--once', '--watch']);
    expect(run.stderr).toContain('Choose one of --once and --watch.');
  });
});

describe('choosing the language', () => {
  it.each([
    [{ LANG: 'fi_FI.UTF-8' }, 'fi'],
    [{ LANG: 'sv_SE.UTF-8' }, 'sv'],
    [{ LANG: 'sv_FI' }, 'sv'],
    [{ LANG: 'de_DE.UTF-8' }, 'en'],
    [{ LANG: 'C' }, 'en'],
    [{ LANG: 'POSIX' }, 'en'],
    [{}, 'en'],
    [{ LC_MESSAGES: 'sv_SE.UTF-8', LANG: 'fi_FI.UTF-8' }, 'sv'],
    [{ LC_ALL: 'fi_FI.UTF-8', LC_MESSAGES: 'sv_SE.UTF-8', LANG: 'en_US.UTF-8' }, 'fi'],
    [{ LC_ALL: 'C', LANG: 'fi_FI.UTF-8' }, 'en'],
    [{ LC_ALL: '', LANG: 'fi_FI.UTF-8' }, 'fi'],
  ] as [Record<string, string>, Language][])('%o -> %s', (env, expected) => {
    expect(cliLanguage(['status'], env)).toBe(expected);
  });

  it('--language wins over the environment, as --language x or --language=x', () => {
    expect(cliLanguage(['status', '--language', 'sv'], { LC_ALL: 'fi_FI.UTF-8' })).toBe('sv');
    expect(cliLanguage(['--language=en', 'status'], { LANG: 'fi_FI.UTF-8' })).toBe('en');
    // Not a language: the environment's is used to say so.
    expect(cliLanguage(['status', '--language', 'de'], { LANG: 'fi_FI.UTF-8' })).toBe('fi');
    expect(() => parseCliArgs(['status', '--language', 'de'])).toThrow(/--language "de"/);
    expect(parseCliArgs(['status', '--language', 'fi'])).toMatchObject({ command: 'status' });
  });
});
