import { type NamedSchema, ROUTES, type RouteContract } from '@sluice/contracts';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** Rewrites every `$ref` in `value` through `rename`, in place. */
function rewriteRefs(value: unknown, rename: (ref: string) => string): void {
  if (Array.isArray(value)) {
    for (const item of value) rewriteRefs(item, rename);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as JsonSchema;
  for (const [key, child] of Object.entries(object)) {
    if (key === '$ref' && typeof child === 'string') object[key] = rename(child);
    else rewriteRefs(child, rename);
  }
}

/**
 * The OpenAPI components of one named schema: the schema itself and, hoisted next to it, the
 * definitions zod nests inside it (shared or recursive parts). Left nested, their
 * `#/definitions/…` references would point at a root `definitions` an OpenAPI document has not.
 */
function componentsOf({ name, schema }: NamedSchema): Record<string, JsonSchema> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' }) as JsonSchema;
  const defs = { ...(json.definitions as Record<string, JsonSchema> | undefined) };
  Object.assign(defs, json.$defs as Record<string, JsonSchema> | undefined);
  delete json.definitions;
  delete json.$defs;
  const componentName = (def: string) => `${name}_${def}`;
  const rename = (ref: string): string => {
    if (ref === '#') return `${COMPONENTS}${name}`;
    const match = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(ref);
    return match?.[1] === undefined ? ref : `${COMPONENTS}${componentName(match[1])}`;
  };
  const components: Record<string, JsonSchema> = { [name]: json };
  for (const [def, defSchema] of Object.entries(defs)) components[componentName(def)] = defSchema;
  rewriteRefs(components, rename);
  return components;
}

/**
 * The OpenAPI 3.0 document of wire protocol v1, generated from the route contracts (`ROUTES`) and their
 * zod schemas. Every `$ref` points into `components.schemas`.
 */
export function openApiDocument(
  routes: Readonly<Record<string, RouteContract>> = ROUTES,
): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const ref = (named: NamedSchema) => {
    if (!(named.name in schemas)) Object.assign(schemas, componentsOf(named));
    return { $ref: `${COMPONENTS}${named.name}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of Object.values(routes)) {
    const parameters = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const operation: Record<string, unknown> = { summary: route.summary };
    if (!route.authenticated) operation.security = [];
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body !== undefined) {
      const schema =
        route.body.contentType === 'multipart/form-data'
          ? { type: 'object', properties: { manifest: ref(route.body.schema) }, additionalProperties: true }
          : ref(route.body.schema);
      operation.requestBody = { required: true, content: { [route.body.contentType]: { schema } } };
    }
    operation.responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        response.body === undefined
          ? { description: response.description }
          : {
              description: response.description,
              content: { 'application/json': { schema: ref(response.body) } },
            },
      ]),
    );
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Sluice ingest API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    security: [{ bearer: [] }],
    paths,
  };
}
