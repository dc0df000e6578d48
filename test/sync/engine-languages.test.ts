import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLanguage } from '../../src-main/common/i18n/i18n.ts';
import type { Language } from '../../src-main/common/i18n/i18n.ts';
import { formatAudit } from '../../src-main/cli/cli-output.ts';
import { reasonText } from '../../src-main/common/i18n/reasons.ts';
import { signInError } from '../../src-main/exchange/graph/graph-errors.ts';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';
import { auditAgreement } from '../../src-main/sync/agreement-audit.ts';
import { severaRecurrenceProblem } from '../../src-main/sync/severa-activity-mapping.ts';
import { listDeletions, restoreDeletion, RestoreError } from '../../src-main/sync/deletion-restore.ts';
import { differences } from '../../src-main/sync/user-sync/verify-writes.ts';
import { englishMatchers } from '../renderer/english-leftovers.ts';
import { FakeCalendar, fields } from './fakes/fake-calendar.ts';
import { AINO, at, TYPE, World } from './fakes/demo-world.ts';

/**
 * The engine speaks the process's language: with Finnish (or Swedish) set, the deletion guard's held deletions, a
 * verified write's differences, a restore's message and error, and the agreement audit's story and rule come out in
 * that language, with no sentence of the English catalog left in them (english-leftovers.ts). The codes stay as they are.
 */

function englishIn(texts: readonly string[], language: Language): string[] {
  const found: string[] = [];
  for (const matcher of englishMatchers(language)) {
    const hit = texts.find((text) => matcher.test(text.replace(/\s+/g, ' ').trim()));
    if (hit) found.push(`${matcher.key}: "${matcher.english}" in "${hit.slice(0, 160)}"`);
  }
  return found;
}

function seedMany(w: World, n: number) {
  const created = [];
  for (let i = 0; i < n; i++) {
    created.push(w.severa.userCreate({ name: `Item ${i}`, startDateTime: at(1 + (i % 20), '09:00'), endDateTime: at(1 + (i % 20), '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } }));
  }
  return created;
}

const WORDS: Record<Exclude<Language, 'en'>, { held: RegExp; restored: RegExp; story: RegExp; rule: RegExp; holds: RegExp; moved: RegExp; participant: RegExp; secretExpired: RegExp; yearly: RegExp; missing: RegExp }> = {
  fi: {
    held: /poistot on pidätetty/,
    restored: /on palautettu/,
    story: /muutettu viimeksi Severassa/,
    rule: /poisto odottaa/,
    holds: /palvelimella/,
    moved: /^Postilaatikko on siirretty .*: 1 synkronoitu merkintä löytyi sieltä uudelleen\.$/,
    participant: /^poistettu Exchangesta \(poistettu osallistujista\)$/,
    secretExpired: /Asiakassalaisuus on vanhentunut/,
    yearly: /joka vuosi/,
    missing: /puuttuu Severasta/,
  },
  sv: {
    held: /borttagningarna hålls kvar/,
    restored: /är tillbaka i/,
    story: /senast ändrad i Severa/,
    rule: /en borttagning väntar/,
    holds: /servern har/,
    moved: /^Postlådan flyttades från .*: 1 synkroniserad post hittades där igen\.$/,
    participant: /^borttagen i Exchange \(borttagen som deltagare\)$/,
    secretExpired: /Klienthemligheten har gått ut/,
    yearly: /varje år/,
    missing: /saknas i Severa/,
  },
};

describe.each(['fi', 'sv'] as const)('the engine in %s', (language) => {
  beforeAll(() => setLanguage(language));
  afterAll(() => setLanguage('en'));

  it("says the guard's held deletions, the audit's story and rule, a restore and its refusal in the language", async () => {
    const w = new World({ enrol: [AINO] });
    const acts = seedMany(w, 30);
    await w.cycle();
    for (const a of acts.slice(0, 12)) w.severa.userDelete(a.guid!);
    const held = (await w.cycle()).users[0];
    const guard = held.errors.find((e) => e.code === 'mass-deletion-held')!;
    expect(guard.message).toMatch(WORDS[language].held);
    expect(guard.fix).toMatch(/--confirm-deletions/);

    const audit = await auditAgreement(
      { severa: w.severa, calendar: w.connector ?? w.calendar, store: w.store, now: () => new Date(w.clock) },
      { users: w.options.users, activityTypesToExchange: w.options.activityTypesToExchange },
    );
    const difference = audit.users[0].differences[0];
    expect(difference.what).toBe('missing in Severa');
    expect(difference.story).toMatch(WORDS[language].story);
    expect(difference.rule).toMatch(WORDS[language].rule);

    await w.cycle({ confirmDeletions: true });
    const [entry] = listDeletions(w.store);
    const deps = { severa: w.severa, calendar: w.calendar, store: w.store, now: () => new Date(w.clock) };
    const restored = await restoreDeletion(deps, entry.id);
    expect(restored.message).toMatch(WORDS[language].restored);
    const refused = await restoreDeletion(deps, 999).catch((error: unknown) => error as RestoreError);
    expect(refused).toBeInstanceOf(RestoreError);

    const texts = [guard.message, guard.fix ?? '', ...held.notes, difference.story, difference.rule ?? '', restored.message, (refused as RestoreError).message];
    expect(englishIn(texts, language), texts.join('\n')).toEqual([]);
  });

  it("says a moved mailbox's note, the reasons the writes add, why a series goes as occurrences, a Graph sign-in's advice and the audit's field in the language", async () => {
    const w = new World({ enrol: [AINO] });
    const online = new FakeCalendar({ mailboxes: [], now: () => new Date(w.clock), idPrefix: 'G' });
    w.connector = new RoutedCalendarConnector({
      connections: [
        { location: 'ews:mail.contoso.example/ews/exchange.asmx', connector: w.calendar },
        { location: 'graph:contoso.onmicrosoft.com', connector: online },
      ],
    });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Made in Outlook', start: at(2, '09:00'), end: at(2, '10:00') }));
    await w.cycle();
    await w.cycle();
    w.tick();
    w.calendar.moveMailboxTo(online, AINO.email);
    const moved = (await w.cycle()).users[0];
    expect(moved.outcome).toBe('ok');
    const note = moved.notes.find((n) => WORDS[language].moved.test(n));
    expect(note, moved.notes.join('\n')).toBeDefined();

    const participant = reasonText('deleted in Exchange (removed as participant)');
    expect(participant).toMatch(WORDS[language].participant);
    const reasons = [
      participant,
      reasonText('changed in Severa; an occurrence changed in Severa is kept'),
      reasonText('changed in Exchange: takes part again'),
      reasonText('changed in Outlook; the meeting can only change there'),
      reasonText('conflict: Severa changed later (removed as participant)'),
    ];

    const yearly = severaRecurrenceProblem({ frequency: 'Yearly', interval: 2, month: 3, dayOfMonth: 1, startDate: '2026-03-01' })!;
    expect(yearly).toMatch(WORDS[language].yearly);

    const signIn = signInError(
      { errorCode: 'invalid_client', errorMessage: 'AADSTS7000222: The provided client secret keys for app are expired.' },
      { tenant: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', credential: 'secret' },
      'login.microsoftonline.com',
    );
    expect(signIn.serverCode).toBe('AADSTS7000222');
    expect(signIn.advice?.message).toMatch(WORDS[language].secretExpired);
    expect(signIn.advice?.fix).toMatch(/Certificates & secrets/);

    const audit = formatAudit({
      auditedAt: '2026-11-24T08:00:00Z',
      users: [{ email: AINO.email, pairs: 1, agreeing: 0, differences: [{ subject: 'Board', start: '2026-11-24T07:00:00Z', what: 'missing in Severa', severa: null, exchange: 'Board', story: '', rule: null }] }],
    });
    expect(audit).toMatch(WORDS[language].missing);

    const texts = [note!, ...reasons, yearly, signIn.message, signIn.advice!.message, signIn.advice!.fix, audit];
    expect(englishIn(texts, language), texts.join('\n')).toEqual([]);
  });

  it("names a verified write's differences in the language, a series' pattern too", () => {
    const meant = fields({ subject: 'Weekly sync', start: at(1, '09:00'), end: at(1, '10:00'), location: 'Room 1', isPrivate: true });
    const stored = { ...meant, subject: 'Weekly', location: '', isPrivate: false };
    const said = differences(meant, stored, 'Exchange');
    expect(said).toHaveLength(3);
    for (const line of said) expect(line).toMatch(WORDS[language].holds);
    const rule = { frequency: 'Weekly' as const, interval: 2, daysOfWeek: ['Monday' as const], startDate: '2026-01-05', count: 6 };
    const series = differences({ ...meant, recurrence: rule }, { ...meant, recurrence: { ...rule, interval: 1 } }, 'Exchange');
    expect(series).toHaveLength(1);
    expect(englishIn([...said, ...series], language), [...said, ...series].join('\n')).toEqual([]);
  });
});

describe('the engine in English', () => {
  it('keeps its sentences as they were', () => {
    const meant = fields({ subject: 'Weekly sync', start: at(1, '09:00'), end: at(1, '10:00'), location: 'Room 1' });
    const rule = { frequency: 'Weekly' as const, interval: 2, daysOfWeek: ['Monday' as const], startDate: '2026-01-05', count: 6 };
    expect(differences({ ...meant, recurrence: rule }, { ...meant, recurrence: { ...rule, interval: 1 }, location: '' }, 'Exchange')).toEqual([
      "the series' location: it holds no location, not \"Room 1\"",
      "the series' pattern: it holds weekly on Monday from 2026-01-05 6 times, not weekly every 2 on Monday from 2026-01-05 6 times",
    ]);
  });
});
