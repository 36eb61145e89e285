import { type NamedSchema, ROUTES, type RouteContract } from '@sluice/contracts';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
/** Where zod puts the parts several schemas share or that recur, when it converts a registry. */
const SHARED = '__shared';

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
 * `components.schemas` of `named`, converted together in one pass so each zod schema becomes one
 * component: a named schema under its name, a part with a `.meta({ id })` or that recurs under that id
 * (`schemaN` when it has none), and every `$ref` pointing at one of them. Converted one by one, zod
 * would leave `#/definitions/…` references to a root `definitions` an OpenAPI document has not.
 */
function componentSchemas(named: readonly NamedSchema[]): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const { name, schema } of named) registry.add(schema, { id: name });
  const converted = z.toJSONSchema(registry, {
    target: 'openapi-3.0',
    unrepresentable: 'any',
    uri: (id) => `${COMPONENTS}${id}`,
  }).schemas as Record<string, JsonSchema>;
  const { [SHARED]: shared, ...schemas } = converted;
  const parts = (shared?.definitions ?? {}) as Record<string, JsonSchema>;
  for (const [id, schema] of Object.entries(parts)) {
    if (id in schemas) throw new Error(`OpenAPI schema name ${id} is taken twice`);
    schemas[id] = schema;
  }
  // zod addresses a shared part as `<uri of __shared>#/definitions/<id>`; it is a component of its own here.
  const sharedPrefix = `${COMPONENTS}${SHARED}#/definitions/`;
  rewriteRefs(schemas, (ref) =>
    ref.startsWith(sharedPrefix) ? `${COMPONENTS}${ref.slice(sharedPrefix.length)}` : ref,
  );
  // `$id` is not a keyword of an OpenAPI 3.0 schema object.
  for (const schema of Object.values(schemas)) delete schema.$id;
  return schemas;
}

/** The query parameters of a zod object schema: one per field, each with its field's JSON schema. */
function queryParameters({ schema }: NamedSchema): Record<string, unknown>[] {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    unrepresentable: 'any',
    io: 'input',
  }) as JsonSchema;
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

/**
 * The OpenAPI 3.0 document of wire protocol v1 and the admin API, generated from the route contracts (`ROUTES`) and their
 * zod schemas. Every `$ref` points into `components.schemas`.
 */
export function openApiDocument(
  routes: Readonly<Record<string, RouteContract>> = ROUTES,
): Record<string, unknown> {
  const named = new Map<string, NamedSchema>();
  const ref = (schema: NamedSchema) => {
    const known = named.get(schema.name);
    if (known !== undefined && known.schema !== schema.schema)
      throw new Error(`OpenAPI schema name ${schema.name} is used by two schemas`);
    named.set(schema.name, schema);
    return { $ref: `${COMPONENTS}${schema.name}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of Object.values(routes)) {
    const parameters: Record<string, unknown>[] = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const operation: Record<string, unknown> = { summary: route.summary };
    if (!route.authenticated) operation.security = [];
    else if (route.auth === 'admin') operation.security = [{ admin: [] }];
    if (route.query !== undefined) parameters.push(...queryParameters(route.query));
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
          ? {
              description: response.description,
              ...(response.contentType === undefined ? {} : { content: { [response.contentType]: {} } }),
            }
          : {
              description: response.description,
              content: { [response.contentType ?? 'application/json']: { schema: ref(response.body) } },
            },
      ]),
    );
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Sluice ingest API', version: '1' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: "A source's API key" },
        admin: { type: 'http', scheme: 'bearer', description: 'The admin key (ADMIN_KEY)' },
      },
      schemas: componentSchemas([...named.values()]),
    },
    security: [{ bearer: [] }],
    paths,
  };
}
