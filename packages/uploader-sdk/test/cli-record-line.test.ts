import { describe, expect, it } from 'vitest';
import { parseRecordLine } from '../src/cli/record-line.js';

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
