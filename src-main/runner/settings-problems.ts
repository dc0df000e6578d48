import { ZodError } from 'zod';
import { isLoopbackHost, orgSettings } from '../common/settings-schema.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { t } from '../common/i18n/i18n.ts';
import { connectionLocation } from '../exchange/exchange-locations.ts';

/** Turns settings that fail the schema into one line per bad field, e.g. `exchange.ewsUrl: "x" is not a web address`. */

export function settingsIssueLines(error: unknown): string[] {
  if (error instanceof ZodError) {
    return error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
  }
  return [error instanceof Error ? error.message : String(error)];
}

export class SettingsError extends Error {
  readonly issues: string[];
  constructor(message: string, issues: string[]) {
    super(issues.length > 0 ? `${message}\n  ${issues.join('\n  ')}` : message);
    this.name = 'SettingsError';
    this.issues = issues;
  }
}

/** Validates parsed JSON as OrgSettings (the command line's settings file); throws SettingsError listing every bad field in the current language. */
export function parseOrgSettings(value: unknown, origin: string): OrgSettings {
  const result = orgSettings.safeParse(value);
  if (!result.success) throw new SettingsError(t('cli.settings.notValid', { origin }), settingsIssueLines(result.error));
  const settings = result.data;
  // The schema allows http:// so the form can say why it is refused; here the refusal is enforced.
  const problems: string[] = [];
  for (const [key, exchange] of [['exchange', settings.exchange], ['secondExchange', settings.secondExchange]] as const) {
    if (!exchange || exchange.serverType === 'Office365') continue;
    const url = new URL(exchange.ewsUrl);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !exchange.allowInsecureHttp) {
      problems.push(t('cli.settings.insecureEws', { key }));
    }
  }
  const second = settings.secondExchange;
  if (second) {
    if (second.serverType === 'Office365' && settings.exchange.serverType === 'Office365') {
      problems.push(t('cli.settings.oneTenant'));
    } else if (connectionLocation(second) === connectionLocation(settings.exchange)) {
      problems.push(t('cli.settings.sameConnection'));
    }
  }
  for (const [email, which] of Object.entries(settings.mailboxLocations)) {
    if (which === 'second' && !second) problems.push(t('cli.settings.noSecondConnection', { email }));
  }
  const severaUrl = new URL(settings.severa.apiUrl);
  if (severaUrl.protocol === 'http:' && !isLoopbackHost(severaUrl.hostname) && !settings.severa.allowInsecureHttp) {
    problems.push(t('cli.settings.insecureSevera'));
  }
  const seen = new Set<string>();
  settings.enrollments.forEach((e, i) => {
    if (seen.has(e.email)) problems.push(t('cli.settings.enrolledTwice', { index: i, email: e.email }));
    seen.add(e.email);
    if (Number.isNaN(Date.parse(`${e.syncStartDate}T00:00:00Z`))) problems.push(t('cli.settings.notDate', { index: i, date: e.syncStartDate }));
  });
  if (problems.length > 0) throw new SettingsError(t('cli.settings.notValid', { origin }), problems);
  return settings;
}
