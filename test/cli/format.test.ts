import { describe, expect, it } from 'vitest';
import { formatRows, rowObjects, toCsv, toNdjson, toTable } from '../../src/cli/format.js';
import { cellText, csvField } from '../../src/core/query/cells.js';
import { parseSkill } from '../../src/core/skills.js';

describe('query output formatting', () => {
  const result = {
    columns: ['name', 'n', 'tags'],
    rows: [
      ['plain', 1, ['a', 'b']],
      [null, 12.5, { k: 'v' }],
    ],
  };

  it('shows NULL as empty and nested values as JSON', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(false)).toBe('false');
    expect(cellText(['a', null])).toBe('["a",null]');
    expect(cellText({ key: 1, value: 'x' })).toBe('{"key":1,"value":"x"}');
  });

  it('quotes CSV fields by RFC 4180 only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(toCsv(result)).toBe('name,n,tags\r\nplain,1,"[""a"",""b""]"\r\n,12.5,"{""k"":""v""}"\r\n');
    expect(toCsv({ columns: ['x'], rows: [] })).toBe('x\r\n');
  });

  it('writes row objects for json and ndjson', () => {
    expect(rowObjects(result)).toEqual([
      { name: 'plain', n: 1, tags: ['a', 'b'] },
      { name: null, n: 12.5, tags: { k: 'v' } },
    ]);
    expect(toNdjson(result)).toBe(
      '{"name":"plain","n":1,"tags":["a","b"]}\n{"name":null,"n":12.5,"tags":{"k":"v"}}\n',
    );
    expect(JSON.parse(formatRows(result, 'json'))).toEqual(rowObjects(result));
  });

  it('aligns table columns, right-aligning numeric ones, and keeps each row on one line', () => {
    expect(toTable(result).split('\n')).toEqual([
      'name      n  tags',
      '-----  ----  ---------',
      'plain     1  ["a","b"]',
      '       12.5  {"k":"v"}',
    ]);
    expect(toTable({ columns: ['note'], rows: [['a\nb']] }).split('\n')).toEqual(['note', '----', 'a b']);
    expect(toTable({ columns: ['n'], rows: [] })).toBe('n\n-');
    expect(toTable({ columns: ['é'], rows: [['ab']] }).split('\n')).toEqual(['é', '--', 'ab']);
  });
});

describe('skill summaries', () => {
  it('take the title line and the first sentence of the first paragraph', () => {
    const skill = parseSkill('x', '# Title here\n\nFirst sentence, with `da sync`. Second one.\n\n## More\n');
    expect(skill).toMatchObject({ title: 'Title here', summary: 'First sentence, with `da sync`.' });
    expect(parseSkill('y', 'no title\n').title).toBe('y');
  });
});
