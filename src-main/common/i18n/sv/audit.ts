import type { CatalogOf } from '../catalog-shape.ts';
import type { audit as en } from '../en/audit.ts';

export const audit: CatalogOf<typeof en> = {
  story: {
    severaLater: 'senast ändrad i Severa {{severa}}, i Exchange {{exchange}} (senare i Severa)',
    exchangeLater: 'senast ändrad i Severa {{severa}}, i Exchange {{exchange}} (senare i Exchange)',
    wroteSevera: 'synkroniseringen skrev den senast till Severa {{at}} ({{reason}})',
    wroteExchange: 'synkroniseringen skrev den senast till Exchange {{at}} ({{reason}})',
    notWritten: 'synkroniseringen har inte skrivit den under de senaste omgångarna',
    joined: '{{times}}; {{written}}',
  },
  rules: {
    deletionWaits: 'en borttagning väntar: kvarhållen av spärren mot massborttagning, eller ett Outlook-möte som Exchange Online inte kan ta bort utan att skicka e-post till deltagarna',
    onlineMeeting: 'Exchange Online: ett möte med deltagare ändras bara i Outlook (varje ändring skulle skickas till dem), så en ändring som görs i Severa stannar i Severa',
    notToExchange: 'aktiviteten går inte längre till Exchange: {{why}}',
    projectTask: 'projektuppgifter synkroniseras aldrig',
    typeNotSelected: 'aktivitetstypen är inte vald för Exchange',
  },
};
