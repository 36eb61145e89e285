// Random and adversarial bodies against both ingest routes of a real server on real PostgreSQL.
// PROPERTY_RUNS (runs per route, default 200) and PROPERTY_SEED (default random, printed) repeat or
// lengthen a run: PROPERTY_RUNS=2000 PROPERTY_SEED=123 pnpm exec vitest run test/hostile-input.property.test.ts
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  BlobManifestItemSchema,
  checkBlobMeta,
  checkRecordData,
  countStatuses,
  ErrorBodySchema,
  type IngestResponse,
  IngestResponseSchema,
  isItemProblem,
  type Limits,
  REQUEST_ERRORS,
  RecordItemSchema,
} from '@sluice/contracts';
import fc from 'fast-check';
import { afterAll } from 'vitest';
import type { TestServer } from '../src/testing.js';
import { rowCounts } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';

const KiB = 1024;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
// A run takes a few milliseconds; a slow shared machine gets 50 ms a run.
const TIMEOUT_MS = 30_000 + RUNS * 50;
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

const LIMITS: Limits = {
  maxBatchItems: 16,
  maxBatchBytes: 512 * KiB,
  maxItemDataBytes: 2 * KiB,
  maxBlobsPerRequest: 4,
  maxBlobRequestBytes: 256 * KiB,
  maxBlobBytes: 16 * KiB,
  // Room in the manifest (4 × (meta + 1 KiB)) for meta nested 100,000 deep.
  maxBlobMetaBytes: 60 * KiB,
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// ---- JSON text, written by hand so that it can nest deeper than JSON.stringify could recurse ----

const oddStrings = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\udc00\ud800',
  '\r\n',
  'caf\u00e9',
  '\ud83d\ude00',
  '__proto__',
  'constructor',
  'x'.repeat(128),
  'x'.repeat(129),
  '"',
  '\\',
);
const anyString = fc.oneof(
  { weight: 3, arbitrary: oddStrings },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 24 }) },
);
// JSON.stringify escapes lone surrogates and NUL, so the text stays valid JSON and parses back to them.
const stringText = anyString.map((text) => JSON.stringify(text));
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom('1e400', '-1e400', '-0', '1e-400', '9007199254740993', '0.5', '-1', '1E3', '4294967296'),
);
const depth = fc.oneof(
  fc.integer({ min: 1, max: 70 }),
  fc.integer({ min: 60, max: 70 }),
  fc.integer({ min: 1_000, max: 100_000 }),
);
const deepText = fc
  .record({
    levels: depth,
    shape: fc.constantFrom('array', 'object', 'mixed'),
    leaf: fc.constantFrom('1', '"x"', '[]', '{}', 'null'),
  })
  .map(({ levels, shape, leaf }) => {
    if (shape === 'array') return `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`;
    if (shape === 'object') return `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;
    const half = Math.ceil(levels / 2);
    return `${'[{"a":'.repeat(half)}${leaf}${'}]'.repeat(half)}`;
  });
const valueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 2, arbitrary: stringText },
  { weight: 2, arbitrary: numberText },
  { weight: 2, arbitrary: deepText },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(anyString, fc.oneof(stringText, numberText)), { maxLength: 4 })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('null', 'true', 'false', '{}', '[]'),
  },
);
/** Text that is not JSON at all. */
const brokenText = fc.oneof(
  fc.constantFrom('[1,,2]', 'undefined', 'NaN', '{"a":1,}', "{'a':1}", '{"items":[]}{}', '{"items":[1]'),
  anyString,
);

/** An object's text from `[key, value text]` pairs; a pair with `undefined` text is left out. */
function objectText(fields: readonly (readonly [string, string | undefined])[]): string {
  return `{${fields
    .filter((field): field is readonly [string, string] => field[1] !== undefined)
    .map(([key, value]) => `${JSON.stringify(key)}:${value}`)
    .join(',')}}`;
}

/** A field's text: mostly the valid one, else something hostile, sometimes missing. */
function field(valid: fc.Arbitrary<string>, hostile: fc.Arbitrary<string> = valueText) {
  return fc.oneof(
    { weight: 16, arbitrary: valid },
    { weight: 2, arbitrary: hostile },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** `usual` three times in four, else one of `others`. */
function mostly<const T, const U>(usual: T, others: readonly U[]): fc.Arbitrary<T | U> {
  return fc.oneof(
    { weight: 3 * others.length, arbitrary: fc.constant(usual) },
    { weight: others.length, arbitrary: fc.constantFrom(...others) },
  );
}

/** A value of `arbitrary` one time in `oneIn`, else `null`. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

const POOL = ['p-1', 'p-2', 'p-3', 'p:4', 'p.5'];
const idValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...POOL) },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/) },
  { weight: 1, arbitrary: anyString },
);
const idText = fc.oneof(
  { weight: 6, arbitrary: idValue.map((id) => JSON.stringify(id)) },
  { weight: 1, arbitrary: valueText },
);
const typeText = field(fc.constantFrom('"click"', '"page view"', '"Order Completed"'), stringText);
const tsText = field(fc.integer({ min: 0, max: 2 ** 45 }).map(String), fc.oneof(numberText, stringText));
const extraField = sometimes(fc.tuple(anyString, valueText), 10);

/** One record's text: a plausible record with some fields hostile, or any JSON value. */
const recordText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        id: field(idText, valueText),
        type: typeText,
        ts: tsText,
        data: field(
          fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value) ?? 'null'),
          valueText,
        ),
        hash: sometimes(
          fc.oneof(
            fc.stringMatching(/^[0-9a-f]{64}$/).map((hash) => JSON.stringify(hash)),
            valueText,
          ),
          4,
        ),
        extra: extraField,
      })
      .map(({ id, type, ts, data, hash, extra }) =>
        objectText([
          ['id', id],
          ['type', type],
          ['ts', ts],
          ['data', data],
          ['hash', hash ?? undefined],
          ...(extra === null ? [] : [[extra[0], extra[1]] as const]),
        ]),
      ),
  },
  { weight: 1, arbitrary: valueText },
);

/** Cuts `text` somewhere, as a client that dies mid-body would. */
const truncated = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([whole, at]) => whole.slice(0, Math.floor(whole.length * at)));

const batchText = fc.oneof(
  {
    weight: 25,
    arbitrary: fc.array(recordText, { maxLength: 20 }).map((items) => `{"items":[${items.join(',')}]}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(recordText, { maxLength: 3 }), anyString, valueText)
      .map(([items, key, value]) => `{"items":[${items.join(',')}],${JSON.stringify(key)}:${value}}`),
  },
  { weight: 1, arbitrary: valueText.map((items) => `{"items":${items}}`) },
  { weight: 1, arbitrary: valueText },
  {
    weight: 1,
    arbitrary: truncated(
      fc.array(recordText, { maxLength: 4 }).map((items) => `{"items":[${items.join(',')}]}`),
    ),
  },
  { weight: 1, arbitrary: brokenText },
);

type Body = { readonly bytes: Uint8Array; readonly headers: Record<string, string> };

const batchRequest = fc
  .record({
    text: batchText,
    rawBytes: sometimes(fc.uint8Array({ maxLength: 512 }), 12),
    contentType: fc.oneof(
      { weight: 10, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/JSON',
          'multipart/form-data; boundary=x',
          '',
        ),
      },
    ),
    encoding: fc.oneof(
      { weight: 8, arbitrary: fc.constant('none' as const) },
      { weight: 2, arbitrary: fc.constant('gzip' as const) },
      { weight: 1, arbitrary: fc.constantFrom('gzip-cut' as const, 'br' as const, 'identity' as const) },
    ),
  })
  .map(({ text, rawBytes, contentType, encoding }) => {
    const plain = rawBytes ?? Buffer.from(text);
    const headers: Record<string, string> = contentType === '' ? {} : { 'content-type': contentType };
    let bytes: Uint8Array = plain;
    if (encoding === 'gzip' || encoding === 'gzip-cut') {
      const zipped = gzipSync(plain);
      bytes = encoding === 'gzip' ? zipped : zipped.subarray(0, Math.floor(zipped.length / 2));
      headers['content-encoding'] = 'gzip';
    } else if (encoding !== 'none') headers['content-encoding'] = encoding;
    return { text: rawBytes === null ? text : undefined, body: { bytes, headers } satisfies Body };
  });

// ---- Multipart bodies, with every part, its order and the framing open to mutation ----

interface SentPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly bytes: Uint8Array;
}

const blobSpec = fc.record({
  id: idValue,
  bytes: fc.uint8Array({ maxLength: 1500 }),
  idText: sometimes(valueText, 20),
  type: typeText,
  ts: tsText,
  contentType: field(
    fc.constantFrom('"image/png"', '"text/plain; charset=utf-8"', '"application/octet-stream"'),
    stringText,
  ),
  size: mostly('exact', ['plus-one', 'minus-one', 'huge', 'hostile', 'missing'] as const),
  hostileSize: numberText,
  digest: mostly('exact', ['other', 'upper', 'hostile', 'missing'] as const),
  meta: sometimes(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 })
          .map((meta) => JSON.stringify(meta)),
      },
      { weight: 1, arbitrary: valueText },
    ),
    3,
  ),
  extra: extraField,
  part: mostly('exact', ['flipped', 'shorter', 'longer', 'missing', 'twice', 'field'] as const),
});
type BlobSpec = typeof blobSpec extends fc.Arbitrary<infer T> ? T : never;

function manifestItemText(spec: BlobSpec): string {
  const size = {
    exact: String(spec.bytes.length),
    'plus-one': String(spec.bytes.length + 1),
    'minus-one': String(spec.bytes.length - 1),
    huge: String(LIMITS.maxBlobBytes + 1),
    hostile: spec.hostileSize,
    missing: undefined,
  }[spec.size];
  const digest = sha256(spec.bytes);
  const sha = {
    exact: JSON.stringify(digest),
    other: JSON.stringify(sha256(Buffer.from(digest))),
    upper: JSON.stringify(digest.toUpperCase()),
    hostile: spec.hostileSize,
    missing: undefined,
  }[spec.digest];
  return objectText([
    ['id', spec.idText ?? JSON.stringify(spec.id)],
    ['type', spec.type],
    ['ts', spec.ts],
    ['contentType', spec.contentType],
    ['size', size],
    ['sha256', sha],
    ['meta', spec.meta ?? undefined],
    ...(spec.extra === null ? [] : [[spec.extra[0], spec.extra[1]] as const]),
  ]);
}

function partsOf(spec: BlobSpec): SentPart[] {
  const { id, bytes } = spec;
  const file = (content: Uint8Array): SentPart => ({ name: id, filename: `${id}.bin`, bytes: content });
  switch (spec.part) {
    case 'exact':
      return [file(bytes)];
    case 'flipped':
      return [
        file(
          bytes.length === 0
            ? Buffer.from('x')
            : Buffer.from(bytes.map((byte, i) => (i === 0 ? byte ^ 1 : byte))),
        ),
      ];
    case 'shorter':
      return [file(bytes.subarray(0, Math.max(0, bytes.length - 1)))];
    case 'longer':
      return [file(Buffer.concat([bytes, Buffer.from('+')]))];
    case 'missing':
      return [];
    case 'twice':
      return [file(bytes), file(bytes)];
    case 'field':
      return [{ name: id, filename: undefined, bytes }];
  }
}

function multipart(parts: readonly SentPart[], boundary: string, eol: string, close: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}${eol}Content-Disposition: ${disposition}${eol}`));
    if (part.filename !== undefined) chunks.push(Buffer.from(`Content-Type: application/octet-stream${eol}`));
    chunks.push(Buffer.from(eol), Buffer.from(part.bytes), Buffer.from(eol));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--${eol}`));
  return Buffer.concat(chunks);
}

const blobsRequest = fc
  .record({
    specs: fc.oneof(
      { weight: 12, arbitrary: fc.array(blobSpec, { maxLength: LIMITS.maxBlobsPerRequest }) },
      { weight: 1, arbitrary: fc.array(blobSpec, { maxLength: LIMITS.maxBlobsPerRequest + 2 }) },
    ),
    envelope: fc.oneof(
      { weight: 12, arbitrary: fc.constant('items' as const) },
      { weight: 1, arbitrary: fc.constantFrom('extra-key' as const, 'any' as const, 'cut' as const) },
    ),
    anyManifest: valueText,
    manifestAt: fc.oneof(
      { weight: 12, arbitrary: fc.constant('first' as const) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('file' as const, 'last' as const, 'missing' as const, 'twice' as const),
      },
    ),
    order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
    stranger: sometimes(fc.record({ name: anyString, bytes: fc.uint8Array({ maxLength: 64 }) }), 12),
    framing: fc.oneof(
      { weight: 14, arbitrary: fc.constant('ok' as const) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'cut' as const,
          'no-close' as const,
          'lf' as const,
          'wrong-boundary' as const,
          'no-boundary' as const,
          'garbage' as const,
        ),
      },
    ),
    cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
    garbage: fc.uint8Array({ maxLength: 256 }),
    contentType: fc.oneof(
      { weight: 14, arbitrary: fc.constant('multipart') },
      { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', '') },
    ),
    encoding: fc.oneof(
      { weight: 14, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('gzip', 'br') },
    ),
  })
  .map((request) => {
    const itemsText = request.specs.map(manifestItemText);
    const envelope = `{"items":[${itemsText.join(',')}]}`;
    const manifest = {
      items: envelope,
      'extra-key': `{"items":[${itemsText.join(',')}],"x":1}`,
      any: request.anyManifest,
      cut: envelope.slice(0, Math.floor(envelope.length * request.cutAt)),
    }[request.envelope];
    const files = request.specs.flatMap(partsOf);
    const order = new Map(files.map((file, index) => [file, request.order[index % 16]! + index / 100]));
    files.sort((a, b) => order.get(a)! - order.get(b)!);
    if (request.stranger !== null)
      files.push({ name: request.stranger.name, filename: 'x', bytes: request.stranger.bytes });
    const manifestPart: SentPart = { name: 'manifest', filename: undefined, bytes: Buffer.from(manifest) };
    const parts = {
      first: [manifestPart, ...files],
      file: [{ ...manifestPart, filename: 'manifest.json' }, ...files],
      last: [...files, manifestPart],
      missing: files,
      twice: [manifestPart, manifestPart, ...files],
    }[request.manifestAt];
    const boundary = `----sluice-property-${sha256(Buffer.from(manifest)).slice(0, 16)}`;
    let bytes: Buffer = multipart(
      parts,
      boundary,
      request.framing === 'lf' ? '\n' : '\r\n',
      request.framing !== 'no-close',
    );
    if (request.framing === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * request.cutAt));
    if (request.framing === 'garbage') bytes = Buffer.from(request.garbage);
    const headers: Record<string, string> = {};
    if (request.contentType === 'multipart') {
      headers['content-type'] =
        {
          ok: `multipart/form-data; boundary=${boundary}`,
          'wrong-boundary': 'multipart/form-data; boundary=not-the-one',
          'no-boundary': 'multipart/form-data',
        }[request.framing as 'ok'] ?? `multipart/form-data; boundary=${boundary}`;
    } else if (request.contentType !== '') headers['content-type'] = request.contentType;
    if (request.encoding !== undefined) headers['content-encoding'] = request.encoding;
    // The server takes the first part, whatever it is, as the manifest when it is named so.
    const first = parts[0];
    return {
      manifest: first?.name === 'manifest' ? Buffer.from(first.bytes).toString('utf8') : undefined,
      files,
      body: { bytes, headers } satisfies Body,
    };
  });

// ---- The properties ----

it.override({ serverOverrides: { limits: LIMITS, rateLimit: { rps: 1_000_000, burst: 1_000_000 } } });

describe('hostile input against both ingest routes (property)', () => {
  console.log(
    `hostile-input property: seed ${SEED}, ${RUNS} runs per route; repeat with PROPERTY_SEED=${SEED} PROPERTY_RUNS=${RUNS}`,
  );

  // What the runs provoked, printed at the end, so that a generator that stops reaching a branch shows.
  const tally = new Map<string, number>();
  const count = (key: string, by = 1): void => {
    tally.set(key, (tally.get(key) ?? 0) + by);
  };
  afterAll(() => {
    console.log(
      [...tally]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, n]) => `${key}: ${n}`)
        .join('\n'),
    );
  });

  async function send(
    server: TestServer,
    path: string,
    body: Body,
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, ...body.headers },
      body: body.bytes,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${response.status} answered with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    const code = (json as { error?: { code?: string } }).error?.code;
    count(`${path} ${response.status}${code === undefined ? '' : ` ${code}`}`);
    for (const result of (json as { results?: { status: string; error?: { code: string } }[] }).results ??
      []) {
      count(`${path} item ${result.status}${result.error === undefined ? '' : ` ${result.error.code}`}`);
    }
    return { status: response.status, json };
  }

  /** Checks the answer against the contract; for a refusal, that nothing was written. Returns a 200's body. */
  function checkAnswer(
    answer: { status: number; json: unknown },
    before: Awaited<ReturnType<typeof rowCounts>>,
    after: Awaited<ReturnType<typeof rowCounts>>,
  ): IngestResponse | undefined {
    expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBeLessThan(500);
    if (answer.status !== 200) {
      const { error } = ErrorBodySchema.parse(answer.json);
      expect(REQUEST_ERRORS[error.code].status).toBe(answer.status);
      expect(after).toEqual(before);
      return undefined;
    }
    const body = IngestResponseSchema.parse(answer.json);
    expect(body.counts).toEqual(countStatuses(body.results));
    return body;
  }

  /** The id the server echoes for an item: its id if a string (cut to 128), else ''. */
  const echoedId = (item: unknown): string => {
    const id = (item as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id.slice(0, 128) : '';
  };

  it(
    'POST /v1/batch: never a 5xx, always the contract, nothing written when refused',
    async ({ server }) => {
      await fc.assert(
        fc.asyncProperty(batchRequest, async ({ text, body }) => {
          const before = await rowCounts(server);
          const answer = await send(server, '/v1/batch', body);
          const after = await rowCounts(server);
          const response = checkAnswer(answer, before, after);
          if (response === undefined) return;
          expect(text, 'a 200 for a body that was not JSON text').toBeDefined();
          const items = (JSON.parse(text ?? '') as { items: unknown[] }).items;
          expect(response.results.map((result) => result.id)).toEqual(items.map(echoedId));
          expect(after.items - before.items).toBe(response.counts.stored);
          response.results.forEach((result, index) => {
            if (result.status !== 'stored') return;
            const record = RecordItemSchema.parse(items[index]);
            expect(isItemProblem(checkRecordData(record.data, LIMITS.maxItemDataBytes))).toBe(false);
          });
          const storedIds = response.results
            .filter((result) => result.status === 'stored')
            .map((result) => result.id);
          const rows = await server.query<{ id: string }>(
            'select id from items where source = $1 and id = any($2)',
            [server.source, storedIds],
          );
          expect(rows.length).toBe(storedIds.length);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'POST /v1/blobs: never a 5xx, always the contract, only verified bytes stored, nothing written when refused',
    async ({ server }) => {
      const spool = join(server.db.dataDir, 'spool', String(process.pid));
      await fc.assert(
        fc.asyncProperty(blobsRequest, async ({ manifest, files, body }) => {
          const before = await rowCounts(server);
          const answer = await send(server, '/v1/blobs', body);
          const after = await rowCounts(server);
          expect(await readdir(spool), 'spool files left behind').toEqual([]);
          const response = checkAnswer(answer, before, after);
          if (response === undefined) return;
          expect(manifest, 'a 200 without a manifest sent first').toBeDefined();
          const items = (JSON.parse(manifest ?? '') as { items: unknown[] }).items;
          expect(response.results.map((result) => result.id)).toEqual(items.map(echoedId));
          const stored = response.counts.stored;
          expect(after).toEqual({
            items: before.items + stored,
            blobs: before.blobs + stored,
            staged: before.staged + stored,
          });
          response.results.forEach((result, index) => {
            if (result.status !== 'stored') return;
            const item = BlobManifestItemSchema.parse(items[index]);
            expect(checkBlobMeta(item.meta, LIMITS.maxBlobMetaBytes)).toBeUndefined();
            const part = files.find((file) => file.name === item.id && file.filename !== undefined);
            expect(part?.bytes.length).toBe(item.size);
            expect(sha256(part?.bytes ?? new Uint8Array())).toBe(item.sha256);
          });
        }),
        { seed: SEED + 1, numRuns: RUNS, endOnFailure: true },
      );
    },
    TIMEOUT_MS,
  );
});
