import { describe, expect, it } from 'vitest';
import type { CalendarConnector, ChangeWatch } from '../../src-main/exchange/calendar-connector.ts';
import { RoutedCalendarConnector } from '../../src-main/exchange/routed-calendar-connector.ts';

/**
 * Real time in a hybrid organization: the watch of a fresh connector (real time makes its own) starts each mailbox on
 * the connection the sync store last synced it on, or the admin's choice, without asking the servers again; a mailbox
 * the store does not place yet stays unwatched and says why.
 */

function watchingConnector(watched: string[][]): CalendarConnector {
  const watch: ChangeWatch = {
    setMailboxes: (mailboxes) => void watched.push([...mailboxes]),
    modes: () => Object.fromEntries((watched.at(-1) ?? []).map((m) => [m, { mode: 'live' as const, since: '2026-11-20T10:00:00.000Z' }])),
    stop: async () => undefined,
  };
  return { watchChanges: () => watch } as unknown as CalendarConnector;
}

describe('the routed connector watches each mailbox where it lives', () => {
  it('placed by the sync store\'s remembered location or the admin\'s choice; an unknown one is left unwatched with the reason', () => {
    const onPremises: string[][] = [];
    const online: string[][] = [];
    const router = new RoutedCalendarConnector({
      connections: [
        { location: 'ews:mail.contoso.example/ews/exchange.asmx', connector: watchingConnector(onPremises) },
        { location: 'graph:contoso.onmicrosoft.com', connector: watchingConnector(online) },
      ],
      overrides: { 'leena.makela@contoso.example': 'ews:mail.contoso.example/ews/exchange.asmx' },
    });
    const remembered: Record<string, string> = { 'aino.virtanen@contoso.example': 'graph:contoso.onmicrosoft.com', 'sara.nieminen@contoso.example': 'ews:mail.contoso.example/ews/exchange.asmx' };
    const watch = router.watchChanges({ changed: () => undefined, resync: () => undefined }, { pollIntervalMs: 2000, positions: { position: () => null, location: (m) => remembered[m] ?? null } });
    watch.setMailboxes(['aino.virtanen@contoso.example', 'leena.makela@contoso.example', 'sara.nieminen@contoso.example', 'new.person@contoso.example']);
    expect(online.at(-1)).toEqual(['aino.virtanen@contoso.example']);
    expect(onPremises.at(-1)).toEqual(['leena.makela@contoso.example', 'sara.nieminen@contoso.example']);
    const modes = watch.modes();
    expect(modes['aino.virtanen@contoso.example'].mode).toBe('live');
    expect(modes['new.person@contoso.example']).toMatchObject({ mode: 'off', reason: 'where the mailbox lives is not known yet' });
  });
});
