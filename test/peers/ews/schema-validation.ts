/**
 * Reading xs: values (boolean, int, one of an enumeration) from request XML, and the ErrorSchemaValidation fault a
 * value or element the schema does not allow is answered with.
 */
import { EwsError, xmlEscape } from './soap-envelope.ts';

export function bool(text: string, what: string): boolean {
  const t = text.trim();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw schemaError(`The value '${t}' is invalid for ${what} (xs:boolean).`);
}

export function int(text: string, what: string): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw schemaError(`The value '${t}' is invalid for ${what} (xs:int).`);
  return Number(t);
}

export function schemaError(violation: string): EwsError {
  return new EwsError('ErrorSchemaValidation', `The request failed schema validation: ${violation}`, {
    fault: true,
    messageXml: `<t:LineNumber>1</t:LineNumber><t:LinePosition>1</t:LinePosition><t:Violation>${xmlEscape(violation)}</t:Violation>`,
  });
}

export function oneOf<V extends string>(text: string, allowed: readonly V[], what: string): V {
  const t = text.trim();
  if (!(allowed as readonly string[]).includes(t)) throw schemaError(`The value '${t}' is invalid for ${what}.`);
  return t as V;
}
