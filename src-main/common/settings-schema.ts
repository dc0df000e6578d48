import { z } from 'zod';
import { onLanguage, t } from './i18n/i18n.ts';
import type { TextKey, TextParams } from './i18n/i18n.ts';

// zod's own messages (a wrong type, a number out of range) in the app's language; ours come from the catalogs below.
onLanguage((language) => z.config(z.locales[language]()));

/** A field problem said in the language of the moment it is found (not of the moment this module loaded). */
const say = (key: TextKey, params?: TextParams) => ({ error: () => t(key, params) });

/**
 * The organization's sync settings: what the admin section of the window and the CLI's --config file hold.
 * No secret is ever part of this shape: passwords and client secrets live in the OS keychain (see secrets/).
 */

export const EXCHANGE_SERVER_TYPES = [
  'Exchange2007_SP1',
  'Exchange2010',
  'Exchange2013',
  'Exchange2016',
  'Exchange2019',
  'ExchangeServerSE',
  'Office365',
] as const;
export type ExchangeServerType = (typeof EXCHANGE_SERVER_TYPES)[number];

const isLoopbackHost = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);

/** https always; http only to a loopback address or when the admin explicitly allowed it. */
export const serviceUrl = z
  .string()
  .trim()
  .min(1, say('report.schema.enterAddress'))
  .superRefine((value, ctx) => {
    // An empty field already has its one message ("Enter the address."), not a second one about the format.
    if (value === '') return;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: t('report.schema.notWebAddress', { value }) });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: t('report.schema.onlyHttps', { protocol: url.protocol }) });
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: 'custom', message: t('report.schema.noCredentialsInAddress') });
    }
  });

export const emailAddress = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, say('report.schema.notEmail'));

export const onPremisesExchangeSettings = z.object({
  serverType: z.enum(EXCHANGE_SERVER_TYPES).exclude(['Office365']),
  ewsUrl: serviceUrl,
  /** NetBIOS domain, e.g. CONTOSO. Empty when the username is a UPN (user@domain). */
  domain: z.string().trim().max(15, say('report.schema.domainTooLong')).regex(/^[^\\/:*?"<>|@.\s]*$/, say('report.schema.notDomain')).default(''),
  username: z.string().trim().min(1, say('report.schema.enterUsername')),
  authMethod: z.enum(['ntlm', 'basic']).default('ntlm'),
  allowInsecureHttp: z.boolean().default(false),
  /** Path to a PEM file of extra CA certificates to trust for this server (never: switch checking off). */
  caFile: z.string().optional(),
});

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** https only: msal and Microsoft Graph accept nothing else. */
const httpsUrl = (example: string) =>
  z
    .string()
    .trim()
    .min(1, say('report.schema.enterAddress'))
    .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', say('report.schema.enterHttps', { example }));

/**
 * Exchange Online through Microsoft Graph with an Entra app (app-only OAuth). The app's client secret, or the private
 * key of its certificate, is a secret (OS keychain): only the certificate's public part is a file named here.
 */
export const exchangeOnlineSettings = z.object({
  serverType: z.literal('Office365'),
  /** Tenant domain (contoso.onmicrosoft.com, contoso.com) or directory (tenant) id. */
  tenantId: z.string().trim().min(1, say('report.schema.enterTenant')).regex(/^[A-Za-z0-9.-]+$/, say('report.schema.notTenant')),
  /** The app registration's Application (client) ID. */
  clientId: z.string().trim().regex(GUID_RE, say('report.schema.enterClientId')),
  /** A certificate (preferred: it cannot leak as text) or a client secret. */
  credential: z.enum(['certificate', 'secret']).default('certificate'),
  /** PEM file of the certificate uploaded to the app registration (public part); its private key is in the keychain. */
  certificateFile: z.string().trim().optional(),
  /** When the client secret expires (YYYY-MM-DD), as the Entra admin center showed it: warned about 30 days ahead. */
  secretExpires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, say('report.schema.dateFormat')).optional(),
  /** Sign-in service (national clouds have their own). */
  authorityHost: httpsUrl('https://login.microsoftonline.com').default('https://login.microsoftonline.com'),
  /** Microsoft Graph (national clouds have their own). */
  graphUrl: httpsUrl('https://graph.microsoft.com').default('https://graph.microsoft.com'),
  /** PEM file of extra CA certificates to trust (a TLS-inspecting proxy); never: switch checking off. */
  caFile: z.string().optional(),
});

export const exchangeSettings = z.discriminatedUnion('serverType', [
  onPremisesExchangeSettings.extend({ serverType: z.enum(['Exchange2007_SP1', 'Exchange2010', 'Exchange2013', 'Exchange2016', 'Exchange2019', 'ExchangeServerSE']) }),
  exchangeOnlineSettings,
]);

export const severaSettings = z.object({
  apiUrl: serviceUrl.default('https://api.severa.visma.com/rest-api'),
  clientId: z.string().trim().min(1, say('report.schema.enterSeveraClientId')),
  allowInsecureHttp: z.boolean().default(false),
  /** PEM file of extra CA certificates to trust for Severa (a TLS-inspecting company proxy); never: switch checking off. */
  caFile: z.string().trim().optional(),
});

export const PROXY_MODES = ['system', 'none', 'manual'] as const;

/**
 * How this computer reaches Severa and Exchange. 'system': the system's proxy settings (PAC and WPAD included) in the
 * app, HTTPS_PROXY / HTTP_PROXY / NO_PROXY on the command line; 'none': always direct; 'manual': the proxy named here.
 * The proxy password is a secret (keychain 'proxy-password', SCS_PROXY_PASSWORD).
 */
export const networkSettings = z
  .object({
    proxyMode: z.enum(PROXY_MODES).default('system'),
    /** http://proxy.example.com:8080 (or proxy.example.com:8080). */
    proxyUrl: z.string().trim().max(2048).default(''),
    /** Hosts reached without the proxy: comma-separated names, .domains, IP ranges (10.0.0.0/8). */
    proxyBypass: z.string().trim().max(4096).default(''),
    /** The proxy login's user name (DOMAIN\\user for NTLM); empty when the proxy asks for none. */
    proxyUsername: z.string().trim().max(256).default(''),
  })
  .superRefine((value, ctx) => {
    if (value.proxyMode !== 'manual') return;
    const text = value.proxyUrl;
    if (!text) {
      ctx.addIssue({ code: 'custom', path: ['proxyUrl'], message: t('report.schema.enterProxy') });
      return;
    }
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
    const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      ctx.addIssue({ code: 'custom', path: ['proxyUrl'], message: t('report.schema.notProxy', { text }) });
    } else if (url.username || url.password) {
      ctx.addIssue({ code: 'custom', path: ['proxyUrl'], message: t('report.schema.noCredentialsInProxy') });
    }
  });
export type NetworkSettings = z.infer<typeof networkSettings>;

export const enrollment = z.object({
  email: emailAddress,
  /** YYYY-MM-DD: nothing that ends before this date is touched. */
  syncStartDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  enabledAt: z.string(),
  paused: z.boolean().default(false),
});

/**
 * Near real time (src-main/runner/live-sync.ts). Off: cycles run on the interval only. On: Exchange is watched (EWS
 * streaming notifications; Exchange Online and EWS without streaming are read every few seconds), Severa is asked for
 * what changed every few seconds (one request for the whole organization), and the users concerned are synced at once.
 */
export const REAL_TIME_DEFAULTS = { enabled: false, exchangeOnlinePollSeconds: 2, ewsPollSeconds: 15, severaPollSeconds: 3 };
export const realTimeSettings = z.object({
  enabled: z.boolean().default(REAL_TIME_DEFAULTS.enabled),
  /** Exchange Online: seconds between reads of each mailbox's changes (20 mailboxes a request, spread over the interval). */
  exchangeOnlinePollSeconds: z.number().min(1, say('report.schema.atLeastSeconds', { count: 1 })).max(300, say('report.schema.atMostSeconds', { count: 300 })).default(REAL_TIME_DEFAULTS.exchangeOnlinePollSeconds),
  /** On-premises Exchange without streaming notifications (2007, or a server refusing them): seconds between reads, per mailbox. */
  ewsPollSeconds: z.number().min(2, say('report.schema.atLeastSeconds', { count: 2 })).max(600, say('report.schema.atMostSeconds', { count: 600 })).default(REAL_TIME_DEFAULTS.ewsPollSeconds),
  /** Severa: seconds between the organization-wide "what changed" requests. */
  severaPollSeconds: z.number().min(1, say('report.schema.atLeastSeconds', { count: 1 })).max(300, say('report.schema.atMostSeconds', { count: 300 })).default(REAL_TIME_DEFAULTS.severaPollSeconds),
});
export type RealTimeSettings = z.infer<typeof realTimeSettings>;

/** The real-time settings with every default filled in. */
export function realTimeOf(settings: { realTime?: Partial<RealTimeSettings> }): RealTimeSettings {
  return { ...REAL_TIME_DEFAULTS, ...settings.realTime };
}

/**
 * The standing agreement audit (src-main/sync/agreement-audit.ts) run by the schedule itself: after a successful
 * scheduled cycle, once `everyHours` have passed since the last one (the first one `everyHours` after the first such
 * cycle); 0: off. Absent: the defaults (`auditOf`).
 */
export const AUDIT_DEFAULTS = { everyHours: 24 };
export const auditSettings = z.object({
  everyHours: z.number().min(0, say('report.schema.auditHours')).max(24 * 30, say('report.schema.auditHours')).default(AUDIT_DEFAULTS.everyHours),
});
export type AuditSettings = z.infer<typeof auditSettings>;

/** The automatic audit's settings with every default filled in. */
export function auditOf(settings: { audit?: Partial<AuditSettings> }): AuditSettings {
  return { ...AUDIT_DEFAULTS, ...settings.audit };
}

export const orgSettings = z.object({
  schemaVersion: z.literal(1).default(1),
  exchange: exchangeSettings,
  /**
   * A hybrid organization (or one moving mailboxes between servers): a second Exchange connection beside `exchange`,
   * e.g. on-premises Exchange and Exchange Online. Each user is synced where their mailbox lives, found by asking.
   */
  secondExchange: exchangeSettings.optional(),
  /** The admin's choice of connection per user (enrollment email), instead of finding it: 'first' (exchange) or 'second'. */
  mailboxLocations: z.record(emailAddress, z.enum(['first', 'second'])).default({}),
  severa: severaSettings,
  /** Activity type guids that go Severa -> Exchange. Task-category types are never synced whatever this says. */
  activityTypesToExchange: z.array(z.string()).default([]),
  /** Minutes between automatic cycles. */
  intervalMinutes: z.number().int().min(1).max(24 * 60).default(15),
  /** How far ahead the window reaches. */
  windowDaysAhead: z.number().int().min(1).max(730).default(365),
  /**
   * Users synced side by side in a cycle (1-27; absent: 8). Fewer for an Exchange or Severa that throttles hard; 1 for a
   * run whose requests come in the same order every time (the CI chaos soak). 27 is EWS's EWSMaxConcurrency per account.
   */
  usersAtOnce: z.number().int().min(1).max(27).optional(),
  enrollments: z.array(enrollment).default([]),
  /** Proxy and how this computer reaches the servers. */
  network: networkSettings.default({ proxyMode: 'system', proxyUrl: '', proxyBypass: '', proxyUsername: '' }),
  /** Mass-deletion guard: hold deletions above both limits until confirmed. */
  deletionGuard: z.object({ maxItems: z.number().int().min(0).default(10), maxPercent: z.number().min(0).max(100).default(20) }).default({ maxItems: 10, maxPercent: 20 }),
  /**
   * Near real time: a change on either side starts that user's sync within seconds (the schedule stays as the safety
   * net). Absent: off, with the default intervals (`realTimeOf`).
   */
  realTime: realTimeSettings.optional(),
  /** The automatic agreement audit: how often the schedule compares both sides (hours; 0: off). Absent: every 24 hours. */
  audit: auditSettings.optional(),
});

export type OrgSettings = z.infer<typeof orgSettings>;
export type Enrollment = z.infer<typeof enrollment>;
export type OnPremisesExchangeSettings = z.infer<typeof onPremisesExchangeSettings>;
export type ExchangeOnlineSettings = z.infer<typeof exchangeOnlineSettings>;
export type ExchangeSettings = z.infer<typeof exchangeSettings>;

export { isLoopbackHost };
