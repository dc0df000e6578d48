import { ZodError } from 'zod';
import { isLoopbackHost, orgSettings } from '../common/settings-schema.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
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

/** Validates parsed JSON as OrgSettings; throws SettingsError listing every bad field. */
export function parseOrgSettings(value: unknown, origin: string): OrgSettings {
  const result = orgSettings.safeParse(value);
  if (!result.success) throw new SettingsError(`The settings in ${origin} are not valid:`, settingsIssueLines(result.error));
  const settings = result.data;
  // The schema allows http:// so the form can say why it is refused; here the refusal is enforced.
  const problems: string[] = [];
  for (const [key, exchange] of [['exchange', settings.exchange], ['secondExchange', settings.secondExchange]] as const) {
    if (!exchange || exchange.serverType === 'Office365') continue;
    const url = new URL(exchange.ewsUrl);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !exchange.allowInsecureHttp) {
      problems.push(`${key}.ewsUrl: http:// sends the delegate password unprotected; use https://, or set ${key}.allowInsecureHttp to true if you must.`);
    }
  }
  const second = settings.secondExchange;
  if (second) {
    if (second.serverType === 'Office365' && settings.exchange.serverType === 'Office365') {
      problems.push('secondExchange: an organization has one Exchange Online tenant; the second connection is for on-premises Exchange (hybrid).');
    } else if (connectionLocation(second) === connectionLocation(settings.exchange)) {
      problems.push('secondExchange: it is the same connection as exchange; a second connection must reach another server (or Exchange Online).');
    }
  }
  for (const [email, which] of Object.entries(settings.mailboxLocations)) {
    if (which === 'second' && !second) problems.push(`mailboxLocations.${email}: there is no second Exchange connection to serve this mailbox.`);
  }
  const severaUrl = new URL(settings.severa.apiUrl);
  if (severaUrl.protocol === 'http:' && !isLoopbackHost(severaUrl.hostname) && !settings.severa.allowInsecureHttp) {
    problems.push('severa.apiUrl: http:// sends the API secret unprotected; use https://, or set severa.allowInsecureHttp to true if you must.');
  }
  const seen = new Set<string>();
  settings.enrollments.forEach((e, i) => {
    if (seen.has(e.email)) problems.push(`enrollments.${i}.email: ${e.email} is enrolled twice.`);
    seen.add(e.email);
    if (Number.isNaN(Date.parse(`${e.syncStartDate}T00:00:00Z`))) problems.push(`enrollments.${i}.syncStartDate: ${e.syncStartDate} is not a date.`);
  });
  if (problems.length > 0) throw new SettingsError(`The settings in ${origin} are not valid:`, problems);
  return settings;
}
