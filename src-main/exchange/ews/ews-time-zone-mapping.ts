import { TimeSpan, TimeZoneInfo } from 'ews-javascript-api';
import { CalendarError } from '../calendar-connector.ts';
import { libraryTimeZone as libraryZone, windowsZoneIdFor } from '../windows-time-zones.ts';
import { isValidTimeZone } from './time-zone-conversion.ts';

/**
 * Time zones between the neutral fields (IANA names) and EWS (Windows zone ids, through the library's zone table):
 * the zone to write for an IANA name, and the IANA name for a zone the server named.
 */

function decodeXmlText(text: string): string {
  return text.replace(/&amp;/g, '&');
}

/** The Windows time zone EWS should be told for an IANA zone, as a library TimeZoneInfo ready to write. */
export function windowsTimeZoneFor(iana: string): TimeZoneInfo {
  if (!isValidTimeZone(iana)) throw new CalendarError('other', `"${iana}" is not a known time zone.`);
  // The Windows zone with the same rules, the table shared with Exchange Online (windows-time-zones.ts).
  const windowsId = windowsZoneIdFor(iana);
  if (!windowsId) throw new CalendarError('other', `The time zone "${iana}" has no Windows equivalent Exchange would understand.`);
  const zone = libraryZone(windowsId);
  // Rebuilt so the display name is not XML-escaped twice on the way out (the library's table holds "&amp;").
  return TimeZoneInfo.CreateCustomTimeZone(
    windowsId,
    zone ? zone.BaseUtcOffset : TimeSpan.Zero,
    decodeXmlText(zone?.DisplayName ?? windowsId),
    decodeXmlText(zone?.StandardName || windowsId),
  );
}

/**
 * The IANA zone for a Windows zone id the server named. `preferred` (the organization's zone) wins whenever it maps to
 * the same Windows zone, so an item written in Europe/Helsinki does not come back as Europe/Kiev.
 */
export function ianaTimeZoneFor(windowsId: string | null | undefined, preferred: string): string {
  if (!windowsId) return preferred;
  try {
    if (windowsTimeZoneFor(preferred).Id === windowsId) return preferred;
  } catch {
    // fall through to the table
  }
  const zone = libraryZone(windowsId);
  const iana = zone?.IanaId;
  if (iana && isValidTimeZone(iana)) return iana === 'Etc/GMT' ? 'UTC' : iana;
  if (isValidTimeZone(windowsId)) return windowsId;
  return preferred;
}

/** Text of a zone's display name without its "(UTC+02:00) " / "(GMT+02:00) " prefix, for matching across Windows versions. */
function displayKey(name: string): string {
  return decodeXmlText(name).replace(/^\((UTC|GMT)[^)]*\)\s*/i, '').trim().toLowerCase();
}

/** A Windows zone id from what Exchange 2007 puts in MeetingTimeZone/@TimeZoneName: an id, or a display name. */
export function windowsIdFromName(name: string | null | undefined): string | null {
  if (!name) return null;
  if (libraryZone(name)) return name;
  const key = displayKey(name);
  for (const id of TimeZoneInfo.ListWindowsTimeZones()) {
    const zone = libraryZone(id);
    if (zone && displayKey(zone.DisplayName) === key) return id;
  }
  return null;
}
