import type { CatalogOf } from '../catalog-shape.ts';
import type { audit as en } from '../en/audit.ts';

export const audit: CatalogOf<typeof en> = {
  story: {
    severaLater: 'muutettu viimeksi Severassa {{severa}}, Exchangessa {{exchange}} (Severassa myöhemmin)',
    exchangeLater: 'muutettu viimeksi Severassa {{severa}}, Exchangessa {{exchange}} (Exchangessa myöhemmin)',
    wroteSevera: 'synkronointi kirjoitti sen viimeksi Severaan {{at}} ({{reason}})',
    wroteExchange: 'synkronointi kirjoitti sen viimeksi Exchangeen {{at}} ({{reason}})',
    notWritten: 'synkronointi ei ole kirjoittanut sitä viimeaikaisilla kierroksilla',
    joined: '{{times}}; {{written}}',
  },
  rules: {
    deletionWaits: 'poisto odottaa: joukkopoistojen vahti on pidättänyt sen, tai kyseessä on Outlook-kokous, jota Exchange Online ei voi poistaa lähettämättä viestiä osallistujille',
    onlineMeeting: 'Exchange Online: kokous, jolla on osallistujia, muuttuu vain Outlookissa (jokainen muutos lähtisi heille viestinä), joten Severassa tehty muutos jää Severaan',
    notToExchange: 'aktiviteetti ei enää kulje Exchangeen: {{why}}',
    projectTask: 'projektin tehtäviä ei koskaan synkronoida',
    typeNotSelected: 'aktiviteettityyppiä ei ole valittu synkronoitavaksi Exchangeen',
  },
};
