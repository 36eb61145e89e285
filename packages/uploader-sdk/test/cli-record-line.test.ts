import { describe, expect, it } from 'vitest';
import { numberedLines, parseRecordLine } from '../src/cli/record-line.js';

describe('a --records line', () => {
  it.each([
    ['{"type":"click","data":{"x":1}}', { type: 'click', data: { x: 1 } }],
    ['{"type":"t","data":null,"id":"a-1","ts":5}', { type: 't', data: null, id: 'a-1', ts: 5 }],
    ['  {"data":[1],"type":"t"}  ', { type: 't', data: [1] }],
  ])('%s is a record', (line, record) => expect(parseRecordLine(line)).toEqual(record));

  it.each([
    ['{"type":"t",', /^not JSON \(/],
    ['"text"', /^expected a JSON object/],
    ['[{"type":"t","data":1}]', /^expected a JSON object/],
    ['null', /^expected a JSON object/],
    ['{"data":1}', /^missing "type"$/],
    ['{"type":"t"}', /^missing "data" \(use null for none\)$/],
    ['{"type":"t","data":1,"timestamp":5,"x":1}', /^unknown field "timestamp", "x" /],
  ])('%s is refused', (line, problem) => {
    const parsed = parseRecordLine(line);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toMatch(problem);
  });
});

describe('numberedLines', () => {
  async function read(chunks: string[] | Buffer[], maxBytes?: number) {
    async function* source() {
      for (const chunk of chunks) yield Buffer.from(chunk);
    }
    const out = [];
    for await (const line of numberedLines(source(), maxBytes)) out.push(line);
    return out;
  }

  it('numbers lines however the input is cut into chunks, drops the \\r of CRLF, and keeps a last unterminated line', async () => {
    const text = 'a\r\nbé\n\nlast';
    const whole = await read([text]);
    expect(whole).toEqual([
      { number: 1, text: 'a' },
      { number: 2, text: 'bé' },
      { number: 3, text: '' },
      { number: 4, text: 'last' },
    ]);
    const bytes = Buffer.from(text);
    const oneByOne = await read([...bytes].map((byte) => Buffer.from([byte])));
    expect(oneByOne).toEqual(whole);
  });

  it('reports a line over the limit once, by number, and goes on with the next line', async () => {
    const lines = await read(['ok\n', 'x'.repeat(10), 'y'.repeat(10), '\nnext\n'], 8);
    expect(lines).toEqual([
      { number: 1, text: 'ok' },
      { number: 2, problem: 'longer than 8 bytes' },
      { number: 3, text: 'next' },
    ]);
  });

  it('reports bytes that are not UTF-8 instead of replacing them', async () => {
    const lines = await read([Buffer.from([0x61, 0xff, 0x0a, 0x62])]);
    expect(lines).toEqual([
      { number: 1, problem: 'not valid UTF-8' },
      { number: 2, text: 'b' },
    ]);
  });
});
