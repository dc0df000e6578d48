/**
 * Extended (MAPI) properties in CalendarItem XML: reading ExtendedFieldURI references and ExtendedProperty values
 * (checked against their PropertyType), and writing an ExtendedProperty back as the client referred to it.
 */
import type { SimExtendedProperty } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childrenNamed } from './xml-parser.ts';
import { EwsError, TYPES_NS, attrEscape, el } from './soap-envelope.ts';
import { parseEwsDateTime } from './time-zones.ts';
import { int, schemaError } from './schema-validation.ts';

const T = TYPES_NS;

export interface ExtendedFieldRef {
  propertySetId?: string;
  distinguishedPropertySetId?: string;
  propertyName?: string;
  propertyId?: number;
  propertyTag?: string;
  propertyType: string;
}

const PROPERTY_TYPES = new Set([
  'ApplicationTime',
  'ApplicationTimeArray',
  'Binary',
  'BinaryArray',
  'Boolean',
  'CLSID',
  'CLSIDArray',
  'Currency',
  'CurrencyArray',
  'Double',
  'DoubleArray',
  'Error',
  'Float',
  'FloatArray',
  'Integer',
  'IntegerArray',
  'Long',
  'LongArray',
  'Null',
  'Object',
  'ObjectArray',
  'Short',
  'ShortArray',
  'SystemTime',
  'SystemTimeArray',
  'String',
  'StringArray',
]);

export function readExtendedFieldUri(e: XmlElement): ExtendedFieldRef {
  const a = e.attrs;
  const type = a.PropertyType ?? '';
  if (!PROPERTY_TYPES.has(type)) throw schemaError(`The PropertyType '${type}' is invalid.`);
  const ref: ExtendedFieldRef = { propertyType: type };
  if (a.PropertySetId !== undefined) ref.propertySetId = a.PropertySetId;
  if (a.DistinguishedPropertySetId !== undefined) ref.distinguishedPropertySetId = a.DistinguishedPropertySetId;
  if (a.PropertyName !== undefined) ref.propertyName = a.PropertyName;
  if (a.PropertyId !== undefined) ref.propertyId = int(a.PropertyId, 'ExtendedFieldURI/PropertyId');
  if (a.PropertyTag !== undefined) ref.propertyTag = a.PropertyTag;
  const named = ref.propertyName !== undefined || ref.propertyId !== undefined;
  const hasSet = ref.propertySetId !== undefined || ref.distinguishedPropertySetId !== undefined;
  if (ref.propertyTag !== undefined ? named || hasSet : !(named && hasSet)) {
    throw new EwsError('ErrorInvalidExtendedProperty', 'An ExtendedFieldURI needs either PropertyTag, or a property set with PropertyName or PropertyId.');
  }
  return ref;
}

function checkExtendedValue(type: string, v: string): void {
  const base = type.replace(/Array$/, '');
  const bad =
    ((base === 'Integer' || base === 'Short' || base === 'Long') && !/^-?\d+$/.test(v.trim())) ||
    (base === 'Boolean' && !/^(true|false|1|0)$/.test(v.trim())) ||
    ((base === 'Double' || base === 'Float') && Number.isNaN(Number(v))) ||
    (base === 'SystemTime' && Number.isNaN(parseEwsDateTime(v, 'Etc/UTC')));
  if (bad) throw new EwsError('ErrorInvalidExtendedPropertyValue', `The value '${v}' is not a valid ${type}.`);
}

export function readExtendedProperty(e: XmlElement): SimExtendedProperty {
  const uri = child(e, T, 'ExtendedFieldURI');
  if (!uri) throw schemaError('ExtendedProperty requires an ExtendedFieldURI.');
  const ref = readExtendedFieldUri(uri);
  const isArray = ref.propertyType.endsWith('Array');
  const single = child(e, T, 'Value');
  const many = child(e, T, 'Values');
  let value: string | string[];
  if (isArray) {
    if (!many) throw new EwsError('ErrorInvalidExtendedPropertyValue', `A ${ref.propertyType} property needs Values.`);
    value = childrenNamed(many, T, 'Value').map((v) => v.text);
    value.forEach((v) => checkExtendedValue(ref.propertyType, v));
  } else {
    if (!single) throw new EwsError('ErrorInvalidExtendedPropertyValue', `A ${ref.propertyType} property needs a Value.`);
    value = single.text;
    checkExtendedValue(ref.propertyType, value);
  }
  return { ...ref, value };
}

export function extendedXml(p: SimExtendedProperty, asRequested: ExtendedFieldRef): string {
  const attrs: string[] = [];
  if (asRequested.distinguishedPropertySetId !== undefined) attrs.push(`DistinguishedPropertySetId="${attrEscape(asRequested.distinguishedPropertySetId)}"`);
  if (asRequested.propertySetId !== undefined) attrs.push(`PropertySetId="${attrEscape(asRequested.propertySetId)}"`);
  if (asRequested.propertyTag !== undefined) attrs.push(`PropertyTag="${attrEscape(asRequested.propertyTag)}"`);
  if (asRequested.propertyName !== undefined) attrs.push(`PropertyName="${attrEscape(asRequested.propertyName)}"`);
  if (asRequested.propertyId !== undefined) attrs.push(`PropertyId="${asRequested.propertyId}"`);
  attrs.push(`PropertyType="${attrEscape(p.propertyType)}"`);
  const value = Array.isArray(p.value) ? `<t:Values>${p.value.map((v) => el('t:Value', v)).join('')}</t:Values>` : el('t:Value', p.value);
  return `<t:ExtendedProperty><t:ExtendedFieldURI ${attrs.join(' ')}/>${value}</t:ExtendedProperty>`;
}
