/**
 * Microsoft's Graph v1.0 OpenAPI description (the calendar subset in ../shared/graph, an unchanged extract; never
 * committed here) turned into JSON-schema validators (ajv) for each operation's query options, request body and
 * responses. Used only when the file is present: the simulator's own routing never reads it.
 *
 * How Graph's OpenAPI is read:
 * - Inheritance is `allOf: [{$ref: base}, {properties...}]` with `additionalProperties: {type: object}` on every level,
 *   which as JSON Schema would reject every inherited property. The meaning is "an entity type with these properties",
 *   so each type is flattened (its own and inherited properties) and closed: a property the type does not declare is a
 *   violation, except OData instance annotations (`@odata.etag`, `@odata.type`, `@removed`, `x@odata.y`). A type with
 *   no properties at all (ODataErrors.InnerError: "service-specific") stays open.
 * - `nullable: true` allows null. A property given as a bare `$ref` is nullable too: in CSDL, structural properties
 *   are nullable unless declared Nullable="false", and the service does return `"recurrence": null`.
 * - Properties newer than the document (the Aug 2026 CSDL's event.cancelledOccurrences, exceptionOccurrences) are
 *   added, so a client may see them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export const GRAPH_OPENAPI_PATH = fileURLToPath(new URL('../../../../shared/graph/graph-openapi-subset.yaml', import.meta.url));
export const GRAPH_CONTRACT_AVAILABLE = existsSync(GRAPH_OPENAPI_PATH);
export const GRAPH_CONTRACT_SKIP_REASON = `skipped: Microsoft's Graph OpenAPI subset is not at ${GRAPH_OPENAPI_PATH} (a third-party file, never committed; CI has it)`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const REF = '#/components/schemas/';
const ID = 'graph-openapi';

/** Newer than the document (msgraph-metadata v1.0 CSDL, Aug 2026). */
const NEWER_PROPERTIES: Record<string, JsonObject> = {
  'microsoft.graph.event': {
    cancelledOccurrences: { type: 'array', items: { type: 'string' } },
    exceptionOccurrences: { type: 'array', items: { $ref: `${ID}#/definitions/microsoft.graph.event` } },
  },
};

export interface ContractParam {
  name: string;
  in: string;
  required: boolean;
  /** 'array' (comma-separated, style form explode false), 'integer', 'boolean' or 'string'. */
  kind: string;
}

export interface ContractOperation {
  operationId: string;
  method: string;
  path: string;
  params: ContractParam[];
  hasBody: boolean;
  validateQuery: ValidateFunction;
  validateBody: ValidateFunction | null;
  /** '2XX' / 'default' / a status -> validator (null: no content). */
  responses: Map<string, ValidateFunction | null>;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  const all = errors ?? [];
  const useful = all.filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && e.params.type === 'null'));
  return (useful.length ? useful : all)
    .slice(0, 6)
    .map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
      return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${extra}`;
    })
    .join('; ');
}

export class GraphContract {
  readonly operations: ContractOperation[] = [];
  private readonly ajv: Ajv;
  private readonly schemas: JsonObject;

  constructor(documentPath = GRAPH_OPENAPI_PATH) {
    const doc = parseYaml(readFileSync(documentPath, 'utf8')) as Json;
    if (!isObject(doc) || !isObject(doc.paths) || !isObject(doc.components) || !isObject(doc.components.schemas)) {
      throw new Error(`${documentPath} is not an OpenAPI document with paths and component schemas.`);
    }
    this.schemas = doc.components.schemas;
    this.ajv = new Ajv({ allErrors: true, strict: false, logger: false, allowUnionTypes: true });
    const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
    (addFormats as unknown as (a: Ajv) => void)(this.ajv);
    const definitions: JsonObject = {};
    for (const name of Object.keys(this.schemas)) definitions[name] = this.flatten(name);
    this.ajv.addSchema({ $id: ID, definitions });
    const components = doc.components;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!isObject(item)) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!isObject(op) || !['get', 'post', 'patch', 'delete', 'put'].includes(method)) continue;
        this.operations.push(this.compile(method.toUpperCase(), path, op, components));
      }
    }
  }

  /** Own and inherited properties of a component schema, following allOf/$ref. */
  private collect(schema: Json, props: JsonObject, required: Set<string>, depth = 0): void {
    if (!isObject(schema) || depth > 20) return;
    if (typeof schema.$ref === 'string' && schema.$ref.startsWith(REF)) {
      this.collect(this.schemas[schema.$ref.slice(REF.length)], props, required, depth + 1);
      return;
    }
    if (Array.isArray(schema.allOf)) for (const part of schema.allOf) this.collect(part, props, required, depth + 1);
    if (isObject(schema.properties)) for (const [k, v] of Object.entries(schema.properties)) props[k] = this.convert(v, true);
    if (Array.isArray(schema.required)) for (const r of schema.required) if (typeof r === 'string') required.add(r);
  }

  private flatten(name: string): Json {
    const schema = this.schemas[name];
    if (!isObject(schema)) return {};
    const objectLike = Array.isArray(schema.allOf) || isObject(schema.properties) || schema.type === 'object';
    if (!objectLike) return this.convert(schema, false);
    const props: JsonObject = {};
    const required = new Set<string>();
    this.collect(schema, props, required);
    Object.assign(props, NEWER_PROPERTIES[name] ?? {});
    if (Object.keys(props).length === 0) return { type: 'object' };
    return { type: 'object', properties: props, ...(required.size ? { required: [...required] } : {}), patternProperties: { '@': {} }, additionalProperties: false };
  }

  /** A schema used in place (a property, an item, a parameter, a response) -> JSON Schema. */
  private convert(schema: Json, asProperty: boolean): Json {
    if (!isObject(schema)) return schema;
    if (typeof schema.$ref === 'string') {
      const ref: JsonObject = { $ref: schema.$ref.startsWith(REF) ? `${ID}#/definitions/${schema.$ref.slice(REF.length)}` : schema.$ref };
      return asProperty || schema.nullable === true ? { anyOf: [ref, { type: 'null' }] } : ref;
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(schema)) {
      if (k.startsWith('x-') || ['nullable', 'example', 'externalDocs', 'xml', 'discriminator', 'description', 'title'].includes(k)) continue;
      if (k === 'properties' && isObject(v)) {
        const p: JsonObject = {};
        for (const [n, s] of Object.entries(v)) p[n] = this.convert(s, true);
        out.properties = p;
      } else if (k === 'items') out.items = this.convert(v, false);
      else if (k === 'additionalProperties') continue;
      else if ((k === 'anyOf' || k === 'oneOf' || k === 'allOf') && Array.isArray(v)) out[k] = v.map((x) => this.convert(x, false));
      else out[k] = v;
    }
    if (isObject(out.properties)) {
      out.patternProperties = { '@': {} };
      out.additionalProperties = false;
    }
    if (schema.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    }
    return out;
  }

  private resolve(x: Json, components: JsonObject, section: string): JsonObject {
    let v = x;
    for (let i = 0; i < 5 && isObject(v) && typeof v.$ref === 'string'; i++) {
      const name = v.$ref.replace(`#/components/${section}/`, '');
      v = isObject(components[section]) ? (components[section] as JsonObject)[name] : null;
    }
    return isObject(v) ? v : {};
  }

  /** A validator compiled on first use (compiling every operation up front costs a second per process). */
  private lazy(schema: object): ValidateFunction {
    let compiled: ValidateFunction | null = null;
    const v = ((data: unknown) => {
      compiled ??= this.ajv.compile(schema);
      const ok = compiled(data) as boolean;
      v.errors = compiled.errors;
      return ok;
    }) as ValidateFunction;
    return v;
  }

  private compile(method: string, path: string, op: JsonObject, components: JsonObject): ContractOperation {
    const params: ContractParam[] = [];
    const queryProps: JsonObject = {};
    const required: string[] = [];
    for (const raw of Array.isArray(op.parameters) ? op.parameters : []) {
      const p = this.resolve(raw, components, 'parameters');
      if (typeof p.name !== 'string') continue;
      const s = isObject(p.schema) ? p.schema : {};
      params.push({ name: p.name, in: String(p.in), required: p.required === true, kind: typeof s.type === 'string' ? s.type : 'string' });
      if (p.in === 'query') {
        queryProps[p.name] = this.convert(s, false);
        if (p.required === true) required.push(p.name);
      }
    }
    const validateQuery = this.lazy({ type: 'object', properties: queryProps, required, additionalProperties: false });
    const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content['application/json'] : undefined;
    const validateBody = isObject(body) && body.schema !== undefined ? this.lazy(this.convert(body.schema, false) as object) : null;
    const responses = new Map<string, ValidateFunction | null>();
    for (const [status, r0] of Object.entries(isObject(op.responses) ? op.responses : {})) {
      const r = this.resolve(r0, components, 'responses');
      const content = isObject(r.content) ? r.content['application/json'] : undefined;
      responses.set(status, isObject(content) && content.schema !== undefined ? this.lazy(this.convert(content.schema, false) as object) : null);
    }
    return { operationId: String(op.operationId), method, path, params, hasBody: validateBody !== null, validateQuery, validateBody, responses };
  }

  find(method: string, path: string): ContractOperation | undefined {
    return this.operations.find((o) => o.method === method && o.path === path);
  }

  /** Query options as the document types them (comma lists for arrays); names matched case-insensitively. */
  checkQuery(op: ContractOperation, query: URLSearchParams): string[] {
    const typed: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [k, v] of query) {
      const lower = k.toLowerCase();
      if (lower === '$skiptoken' || lower === '$deltatoken') continue; // paging tokens of nextLink/deltaLink
      const p = op.params.find((x) => x.in === 'query' && x.name.toLowerCase() === lower);
      if (!p) {
        problems.push(`query parameter '${k}' is not described for ${op.operationId}`);
        continue;
      }
      typed[p.name] = p.kind === 'array' ? v.split(',').map((s) => s.trim()) : p.kind === 'integer' && /^-?\d+$/.test(v) ? Number(v) : p.kind === 'boolean' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v;
    }
    if (!query.has('$skiptoken') && !query.has('$deltatoken') && !op.validateQuery(typed)) problems.push(`query: ${formatErrors(op.validateQuery.errors)}`);
    return problems;
  }

  checkBody(op: ContractOperation, body: unknown): string[] {
    if (!op.validateBody) return [];
    return op.validateBody(body) ? [] : [`request body: ${formatErrors(op.validateBody.errors)}`];
  }

  checkResponse(op: ContractOperation, status: number, body: unknown, hasBody: boolean): string[] {
    const key = op.responses.has(String(status)) ? String(status) : status >= 200 && status < 300 && op.responses.has('2XX') ? '2XX' : status >= 400 && op.responses.has('default') ? 'default' : null;
    if (key === null) return [`status ${status} is not declared for ${op.operationId}`];
    const v = op.responses.get(key) ?? null;
    if (v === null) return hasBody ? [`status ${status} declares no content but a body was sent`] : [];
    if (!v(body)) return [`${status} response: ${formatErrors(v.errors)}`];
    return [];
  }
}

let shared: GraphContract | null = null;
/** One compiled contract per process (compiling takes a moment and the document never changes). */
export function graphContractIfPresent(): GraphContract | null {
  if (!GRAPH_CONTRACT_AVAILABLE) return null;
  shared ??= new GraphContract();
  return shared;
}
