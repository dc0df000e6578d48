/**
 * Time zones in CalendarItem XML: reading StartTimeZone/EndTimeZone (TimeZoneDefinition, 2010+) and MeetingTimeZone
 * (2007), and writing them back, a full TimeZoneDefinition or a MeetingTimeZone bias, as the request's version asks.
 */
import type { XmlElement } from './xml-parser.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { EwsError, TYPES_NS, attrEscape, el, versionAtLeast, xmlEscape } from './soap-envelope.ts';
import { fixedOffsetZone, ianaForWindowsId, windowsZoneFor, zoneRules } from './time-zones.ts';

const T = TYPES_NS;

/** xs:duration -> minutes (EWS uses them for time zone biases, e.g. -PT2H or -P0DT2H0M0.0S). */
export function parseDurationMinutes(text: string): number | null {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m) return null;
  const v = Number(m[2] ?? 0) * 1440 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0) + Number(m[5] ?? 0) / 60;
  return m[1] ? -v : v;
}

/** TimeZoneDefinition (2010+): Id names the zone; an unknown Id falls back to the standard period's bias. */
export function readTimeZoneDefinition(e: XmlElement): string {
  const id = e.attrs.Id ?? e.attrs.Name ?? '';
  const iana = id ? ianaForWindowsId(id) : undefined;
  if (iana) return iana;
  const periods = childrenNamed(child(e, T, 'Periods'), T, 'Period');
  const std = periods.find((p) => /standard/i.test(p.attrs.Name ?? '') || /std/i.test(p.attrs.Id ?? '')) ?? periods[0];
  const bias = std ? parseDurationMinutes(std.attrs.Bias ?? '') : null;
  const fixed = bias === null ? undefined : fixedOffsetZone(-bias);
  if (fixed) return fixed;
  throw new EwsError('ErrorTimeZone', `The time zone '${id || '(no Id)'}' is not known to this server.`);
}

/**
 * MeetingTimeZone (Exchange 2007): TimeZoneName if known, else BaseOffset as a fixed zone. exchangelib writes the
 * 2010 attributes (Id, Name) here instead; Exchange tolerates that, so do we.
 */
export function readMeetingTimeZone(e: XmlElement): string {
  const name = e.attrs.TimeZoneName ?? e.attrs.Id ?? e.attrs.Name;
  const iana = name ? ianaForWindowsId(name) : undefined;
  if (iana) return iana;
  const base = parseDurationMinutes(childText(e, T, 'BaseOffset') ?? '');
  const fixed = base === null ? undefined : fixedOffsetZone(-base);
  if (fixed) return fixed;
  throw new EwsError('ErrorTimeZone', `The meeting time zone '${name ?? '(unnamed)'}' is not known to this server.`);
}

export function biasDuration(minutesEast: number): string {
  const bias = -minutesEast;
  const abs = Math.abs(bias);
  return `${bias < 0 ? '-' : ''}PT${Math.floor(abs / 60)}H${abs % 60 ? `${abs % 60}M` : ''}`;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function minutesDuration(minutes: number): string {
  const sign = minutes < 0 ? '-' : '';
  const abs = Math.abs(minutes);
  return `${sign}PT${Math.floor(abs / 60)}H${abs % 60 ? `${abs % 60}M` : ''}`;
}

const tzXmlCache = new Map<string, string>();

/** A full TimeZoneDefinition (periods, transition groups, transitions), as Exchange 2010+ returns one. */
export function timeZoneDefinitionXml(tag: string, zone: string): string {
  const key = `${tag}|${zone}`;
  let xml = tzXmlCache.get(key);
  if (xml === undefined) {
    xml = buildTimeZoneDefinitionXml(tag, zone);
    tzXmlCache.set(key, xml);
  }
  return xml;
}

function buildTimeZoneDefinitionXml(tag: string, zone: string): string {
  const z = windowsZoneFor(zone);
  const r = zoneRules(zone);
  const base = `trule:Microsoft/Registry/${z.id}/2026`;
  const stdId = `${base}-Standard`;
  const dltId = `${base}-Daylight`;
  let periods = `<t:Period Bias="${minutesDuration(-r.standardOffset)}" Name="Standard" Id="${attrEscape(stdId)}"/>`;
  let group: string;
  if (r.daylightOffset !== null && r.toDaylight && r.toStandard) {
    periods += `<t:Period Bias="${minutesDuration(-r.daylightOffset)}" Name="Daylight" Id="${attrEscape(dltId)}"/>`;
    const tr = (to: string, rule: NonNullable<typeof r.toDaylight>): string =>
      `<t:RecurringDayTransition><t:To Kind="Period">${xmlEscape(to)}</t:To>${el('t:TimeOffset', minutesDuration(rule.localMinutes))}` +
      `${el('t:Month', rule.month)}${el('t:DayOfWeek', DAY_NAMES[rule.weekday])}${el('t:Occurrence', rule.occurrence)}</t:RecurringDayTransition>`;
    group = tr(dltId, r.toDaylight) + tr(stdId, r.toStandard);
  } else {
    group = `<t:Transition><t:To Kind="Period">${xmlEscape(stdId)}</t:To></t:Transition>`;
  }
  return (
    `<t:${tag} Id="${attrEscape(z.id)}" Name="${attrEscape(z.name)}"><t:Periods>${periods}</t:Periods>` +
    `<t:TransitionsGroups><t:TransitionsGroup Id="0">${group}</t:TransitionsGroup></t:TransitionsGroups>` +
    `<t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:${tag}>`
  );
}

export function timeZoneXml(tag: string, zone: string, version: ApiVersion): string {
  if (!versionAtLeast(version, 'Exchange2010')) return '';
  return timeZoneDefinitionXml(tag, zone);
}
