import { createRequire } from 'node:module';
import { DefaultExtendedPropertySet, MapiPropertyType, TimeSpan, TimeZoneInfo } from 'ews-javascript-api';

/**
 * Corrections to ews-javascript-api 0.15.3 behaviour, applied once when the connector loads.
 *
 * TimeZoneDefinition.ToTimeZoneInfo validates the full definition (Periods, TransitionsGroups, Transitions) *before*
 * it looks the zone up by its Id. A StartTimeZone that names a well-known Windows zone by Id alone
 * (`<t:StartTimeZone Id="FLE Standard Time" Name="..."/>`) then throws InvalidOrUnsupportedTimeZoneDefinition and the
 * whole GetItem batch fails to parse. The connector only needs the Id, so the lookup by Id comes first here, and a
 * definition that is neither known nor complete yields a zone with that Id (the connector then falls back to the
 * organization's zone) instead of failing every item in the batch.
 *
 * ExtendedPropertyDefinition.WriteAttributesToXml calls util.isNullOrUndefined, which Node removed in version 23:
 * on Node 24 every request naming an extended property (the sync tag) throws before it is sent. The method is
 * replaced by one writing the same attributes without that helper.
 *
 * EwsServiceXmlWriter writes element text and attribute values as they are, unescaped: a subject "Q&A" or a body
 * with "<" produces XML the server rejects (ErrorSchemaValidation), and text could even inject elements into the
 * request. Text and attribute values are escaped here, and characters XML 1.0 cannot carry are dropped.
 */

interface XmlWriterShape {
  WriteAttributeValue(name: string, value: unknown): void;
}

interface ExtendedPropertyDefinitionShape {
  propertySet?: number | null;
  propertySetId?: { ToString(): string } | null;
  tag?: number | null;
  name?: string | null;
  id?: number | null;
  mapiType: number;
  WriteAttributesToXml(writer: XmlWriterShape): void;
}

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
  fixExtendedPropertyAttributes(require);
  escapeWrittenText(require);
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

function fixExtendedPropertyAttributes(require: NodeJS.Require): void {
  const module = require('ews-javascript-api/js/PropertyDefinitions/ExtendedPropertyDefinition.js') as {
    ExtendedPropertyDefinition: { prototype: ExtendedPropertyDefinitionShape };
  };
  const distinguished = DefaultExtendedPropertySet as unknown as Record<number, string>;
  const mapiTypes = MapiPropertyType as unknown as Record<number, string>;
  module.ExtendedPropertyDefinition.prototype.WriteAttributesToXml = function (this: ExtendedPropertyDefinitionShape, writer: XmlWriterShape): void {
    if (this.propertySet !== null && this.propertySet !== undefined) writer.WriteAttributeValue('DistinguishedPropertySetId', distinguished[this.propertySet]);
    if (this.propertySetId) writer.WriteAttributeValue('PropertySetId', this.propertySetId.ToString());
    if (this.tag) writer.WriteAttributeValue('PropertyTag', this.tag);
    if (this.name) writer.WriteAttributeValue('PropertyName', this.name);
    if (this.id) writer.WriteAttributeValue('PropertyId', this.id);
    writer.WriteAttributeValue('PropertyType', mapiTypes[this.mapiType]);
  };
}

const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXmlText(value: string): string {
  return value.replace(NOT_XML_CHARS, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value).replace(/"/g, '&quot;');
}

function escapeWrittenText(require: NodeJS.Require): void {
  const module = require('ews-javascript-api/js/Core/EwsServiceXmlWriter.js') as {
    EwsServiceXmlWriter: { prototype: { WriteValue(value: unknown, name: unknown): void; WriteAttributeString(...args: unknown[]): void } };
  };
  const prototype = module.EwsServiceXmlWriter.prototype;
  const writeValue = prototype.WriteValue;
  prototype.WriteValue = function (this: unknown, value: unknown, name: unknown): void {
    writeValue.call(this, typeof value === 'string' ? escapeXmlText(value) : value, name);
  };
  const writeAttribute = prototype.WriteAttributeString;
  prototype.WriteAttributeString = function (this: unknown, ...args: unknown[]): void {
    // (localName, value) or (prefix, localName, value): the value is always last.
    const last = args.length - 1;
    if (typeof args[last] === 'string') args[last] = escapeXmlAttribute(args[last] as string);
    writeAttribute.apply(this, args);
  };
}
