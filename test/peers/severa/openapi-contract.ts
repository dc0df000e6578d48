import { readFileSync } from 'node:fs';
import { vendorContract } from '../common/vendor-contracts.ts';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/**
 * The Severa OpenAPI subset (severa/severa-openapi-subset.yaml in the vendor contracts folder, see vendor-contracts.ts;
 * an unchanged copy of the public document) turned into
 * JSON-schema validators (ajv) for every operation's query parameters, request body and responses.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` becomes a `null` type, and a `$ref` with siblings (the document puts
 * `nullable` and `readOnly` beside `$ref`, which 3.0 strictly ignores but the generator clearly meant) becomes an
 * `anyOf`/`allOf` that honours them. `readOnly` properties are accepted in requests and ignored, as the real server does.
 */

const DOCUMENT = vendorContract('Severa OpenAPI document', 'severa', 'severa-openapi-subset.yaml');
export const OPENAPI_DOCUMENT_PATH = DOCUMENT.path;
/** Whether the document is there (see vendor-contracts.ts); without it the simulator runs unchecked and the contract tests skip, saying why. */
export const SEVERA_CONTRACT_AVAILABLE = DOCUMENT.available;
export const SEVERA_CONTRACT_SKIP_REASON = DOCUMENT.skipReason;

/** A contract test's title, carrying the reason it is skipped where the document is absent (use with `it.skipIf`). */
export function contractTestTitle(title: string): string {
  return SEVERA_CONTRACT_AVAILABLE ? title : `${title} [${SEVERA_CONTRACT_SKIP_REASON}]`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface ParamSpec {
  name: string;
  in: 'query' | 'path' | 'header';
  required: boolean;
  /** 'array' | 'integer' | 'boolean' | 'string' after resolving refs, for turning query text into typed values. */
  kind: string;
  itemKind: string | null;
}

export interface OperationContract {
  operationId: string;
  method: string;
  /** OpenAPI path template, e.g. /v1/activities/{guid}. */
  path: string;
  /** OAuth2 scopes the `security` entry demands. */
  scopes: string[];
  params: ParamSpec[];
  validateQuery: ValidateFunction;
  validateBody: ValidateFunction | null;
  /** Status code (or 'default') -> validator for the JSON body; null when the response declares no content. */
  responses: Map<string, ValidateFunction | null>;
  /** Status code -> header names the response declares. */
  responseHeaders: Map<string, string[]>;
}

export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const REF_PREFIX = '#/components/schemas/';
const SCHEMA_ID = 'severa-openapi';

/** OpenAPI 3.0 schema object -> JSON Schema (draft-07) for ajv. */
export function toJsonSchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  const nullable = schema.nullable === true;
  let refTarget: string | null = null;
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'nullable' || key === 'example' || key === 'externalDocs' || key === 'xml' || key === 'discriminator') continue;
    if (key === '$ref' && typeof value === 'string') {
      refTarget = value.startsWith(REF_PREFIX) ? `${SCHEMA_ID}#/definitions/${value.slice(REF_PREFIX.length)}` : value;
      continue;
    }
    if (key === 'properties' && isObject(value)) {
      const props: JsonObject = {};
      for (const [name, sub] of Object.entries(value)) props[name] = toJsonSchema(sub);
      out.properties = props;
    } else if (key === 'items' || key === 'additionalProperties' || key === 'not') {
      out[key] = toJsonSchema(value);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (refTarget !== null) {
    const siblings = Object.keys(out);
    const ref: JsonObject = { $ref: refTarget };
    const base: Json = siblings.length ? { allOf: [ref], ...out } : ref;
    return nullable ? { anyOf: [base, { type: 'null' }] } : base;
  }
  if (nullable) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.type === undefined && out.enum === undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  const all = errors ?? [];
  // A nullable $ref yields "must be null" and "must match a schema in anyOf" beside the real reason: keep the reason.
  const useful = all.filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && e.params.type === 'null'));
  return (useful.length ? useful : all)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`)
    .join('; ');
}

export class SeveraContract {
  readonly operations: OperationContract[];
  private readonly ajv: Ajv;
  private readonly doc: JsonObject;

  constructor(documentPath = OPENAPI_DOCUMENT_PATH) {
    const doc = parseYaml(readFileSync(documentPath, 'utf8')) as Json;
    if (!isObject(doc) || !isObject(doc.paths) || !isObject(doc.components) || !isObject(doc.components.schemas)) {
      throw new Error(`${documentPath} is not an OpenAPI document with paths and component schemas.`);
    }
    this.doc = doc;
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
    const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
    (addFormats as unknown as (a: Ajv) => void)(this.ajv);
    const definitions: JsonObject = {};
    for (const [name, schema] of Object.entries(doc.components.schemas)) definitions[name] = toJsonSchema(schema);
    this.ajv.addSchema({ $id: SCHEMA_ID, definitions });
    this.operations = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!isObject(item)) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!isObject(op) || !['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        this.operations.push(this.compileOperation(method.toUpperCase(), path, op));
      }
    }
  }

  private resolve(schema: Json): JsonObject {
    let s = schema;
    for (let i = 0; i < 10 && isObject(s) && typeof s.$ref === 'string'; i++) {
      const name = s.$ref.slice(REF_PREFIX.length);
      s = (this.doc.components as JsonObject).schemas && ((this.doc.components as JsonObject).schemas as JsonObject)[name];
    }
    return isObject(s) ? s : {};
  }

  private compileOperation(method: string, path: string, op: JsonObject): OperationContract {
    const params: ParamSpec[] = [];
    const queryProps: JsonObject = {};
    const queryRequired: string[] = [];
    for (const p of Array.isArray(op.parameters) ? op.parameters : []) {
      if (!isObject(p) || typeof p.name !== 'string') continue;
      const schema = isObject(p.schema) ? p.schema : {};
      const resolved = this.resolve(schema);
      const items = resolved.type === 'array' ? this.resolve(resolved.items ?? {}) : null;
      params.push({
        name: p.name,
        in: p.in as ParamSpec['in'],
        required: p.required === true,
        kind: typeof resolved.type === 'string' ? resolved.type : 'string',
        itemKind: items && typeof items.type === 'string' ? items.type : null,
      });
      if (p.in === 'query') {
        queryProps[p.name] = toJsonSchema(schema);
        if (p.required === true) queryRequired.push(p.name);
      }
    }
    const validateQuery = this.ajv.compile({ type: 'object', properties: queryProps, required: queryRequired });
    let validateBody: ValidateFunction | null = null;
    const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content['application/json'] : undefined;
    if (isObject(body) && body.schema !== undefined) validateBody = this.ajv.compile(toJsonSchema(body.schema) as object);
    const responses = new Map<string, ValidateFunction | null>();
    const responseHeaders = new Map<string, string[]>();
    for (const [status, r] of Object.entries(isObject(op.responses) ? op.responses : {})) {
      if (!isObject(r)) continue;
      const content = isObject(r.content) ? r.content['application/json'] : undefined;
      responses.set(status, isObject(content) && content.schema !== undefined ? this.ajv.compile(toJsonSchema(content.schema) as object) : null);
      responseHeaders.set(status, isObject(r.headers) ? Object.keys(r.headers) : []);
    }
    const scopes: string[] = [];
    for (const req of Array.isArray(op.security) ? op.security : []) {
      if (isObject(req) && Array.isArray(req.OAuth2)) scopes.push(...req.OAuth2.filter((s): s is string => typeof s === 'string'));
    }
    return { operationId: String(op.operationId), method, path, scopes, params, validateQuery, validateBody, responses, responseHeaders };
  }

  find(method: string, path: string): OperationContract | undefined {
    return this.operations.find((o) => o.method === method && o.path === path);
  }

  byId(operationId: string): OperationContract {
    const op = this.operations.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`The OpenAPI subset has no operation ${operationId}.`);
    return op;
  }

  /**
   * Turns a query string into typed values per the operation's parameters (arrays: repeated keys, style form explode).
   * Values that do not convert stay strings, so the schema check reports them.
   */
  typedQuery(op: OperationContract, query: URLSearchParams): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of op.params) {
      if (p.in !== 'query' || !query.has(p.name)) continue;
      const values = query.getAll(p.name);
      const convert = (text: string, kind: string | null): unknown => {
        if (kind === 'integer') return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
        if (kind === 'boolean') return /^true$/i.test(text) ? true : /^false$/i.test(text) ? false : text;
        return text;
      };
      if (p.kind === 'array') out[p.name] = values.filter((v) => v !== '').map((v) => convert(v, p.itemKind));
      else if (values.length > 1) out[p.name] = values; // a scalar given twice: the schema check rejects the array
      else out[p.name] = values[0] === '' ? null : convert(values[0], p.kind);
    }
    return out;
  }

  /** Returns a sentence describing what is wrong, or null. */
  checkQuery(op: OperationContract, typed: Record<string, unknown>): string | null {
    return op.validateQuery(typed) ? null : `Invalid query parameters: ${formatErrors(op.validateQuery.errors)}`;
  }

  checkBody(op: OperationContract, body: unknown): string | null {
    if (!op.validateBody) return null;
    return op.validateBody(body) ? null : `The request body does not match the API: ${formatErrors(op.validateBody.errors)}`;
  }

  /** Throws ContractViolation when a response does not match what the document declares for its status. */
  checkResponse(op: OperationContract, status: number, body: unknown, hasBody: boolean, headers: Record<string, string>): void {
    const key = op.responses.has(String(status)) ? String(status) : op.responses.has('default') ? 'default' : null;
    if (key === null) throw new ContractViolation(`${op.operationId}: status ${status} is not declared by the document.`);
    if (key === 'default' && status < 400) throw new ContractViolation(`${op.operationId}: success status ${status} is not declared.`);
    const validate = op.responses.get(key) ?? null;
    if (validate === null) {
      if (hasBody) throw new ContractViolation(`${op.operationId}: status ${status} declares no content but a body was sent.`);
    } else if (!validate(body)) {
      throw new ContractViolation(`${op.operationId}: ${status} response does not match the document: ${formatErrors(validate.errors)}`);
    }
    const declared = new Set((op.responseHeaders.get(key) ?? []).map((h) => h.toLowerCase()));
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'nextpagetoken' && !declared.has('nextpagetoken')) throw new ContractViolation(`${op.operationId}: NextPageToken header is not declared for ${status}.`);
    }
  }
}

let shared: SeveraContract | null = null;
/** One compiled contract per process: compiling the document takes a while and it never changes. */
export function severaContract(): SeveraContract {
  if (!SEVERA_CONTRACT_AVAILABLE) throw new Error(`The Severa OpenAPI document is not at ${OPENAPI_DOCUMENT_PATH}; contract checks need it.`);
  shared ??= new SeveraContract();
  return shared;
}

/** The compiled contract where the document is present, else null (the simulator then runs without checking). */
export function severaContractIfPresent(): SeveraContract | null {
  return SEVERA_CONTRACT_AVAILABLE ? severaContract() : null;
}
