import { createRequire } from 'node:module';
import { TimeSpan, TimeZoneInfo } from 'ews-javascript-api';

/**
 * Corrections to ews-javascript-api 0.15.3 behaviour, applied once when the connector loads.
 *
 * TimeZoneDefinition.ToTimeZoneInfo validates the full definition (Periods, TransitionsGroups, Transitions) *before*
 * it looks the zone up by its Id. A StartTimeZone that names a well-known Windows zone by Id alone
 * (`<t:StartTimeZone Id="FLE Standard Time" Name="..."/>`) then throws InvalidOrUnsupportedTimeZoneDefinition and the
 * whole GetItem batch fails to parse. The connector only needs the Id, so the lookup by Id comes first here, and a
 * definition that is neither known nor complete yields a zone with that Id (the connector then falls back to the
 * organization's zone) instead of failing every item in the batch.
 */

interface TimeZoneDefinitionShape {
  Id?: string;
  Name?: string;
  ToTimeZoneInfo(service: unknown, parse?: boolean): TimeZoneInfo;
}

let applied = false;

export function applyEwsLibraryQuirkFixes(): void {
  if (applied) return;
  applied = true;
  const require = createRequire(import.meta.url);
  const module = require('ews-javascript-api/js/ComplexProperties/TimeZones/TimeZoneDefinition.js') as {
    TimeZoneDefinition: { prototype: TimeZoneDefinitionShape };
  };
  const prototype = module.TimeZoneDefinition.prototype;
  const original = prototype.ToTimeZoneInfo;
  prototype.ToTimeZoneInfo = function (this: TimeZoneDefinitionShape, service: unknown, parse = false): TimeZoneInfo {
    if (!parse && this.Id) {
      try {
        return TimeZoneInfo.FindSystemTimeZoneById(this.Id);
      } catch {
        // not a zone the library's table knows: try the full definition
      }
    }
    try {
      return original.call(this, service, parse);
    } catch {
      const id = this.Id || 'UTC';
      return TimeZoneInfo.CreateCustomTimeZone(id, TimeSpan.Zero, this.Name || id, this.Name || id);
    }
  };
}
