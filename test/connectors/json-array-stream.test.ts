import { jsonArrayElements } from '../../src/connectors/http/json-array-stream.js';

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function elements(text: string, size = 3): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of jsonArrayElements(chunked(text, size))) out.push(value);
  return out;
}

describe('jsonArrayElements', () => {
  const tricky = [
    { a: 'comma, bracket ] brace } quote " backslash \\', nested: [1, [2, { x: '[' }]] },
    'plain string with , and ]',
    42,
    -1.5e3,
    true,
    null,
    [],
    {},
    { emoji: 'naïve café 🔐', escaped: '\u0001\n\t' },
  ];

  it.each([1, 2, 3, 7, 64, 100_000])('yields every element exactly as JSON.parse would, whatever the chunk size (%i)', async (size) => {
    const text = ` \n[ ${tricky.map((v) => JSON.stringify(v)).join(' ,\n ')} ]\n `;
    expect(await elements(text, size)).toEqual(JSON.parse(text));
  });

  it('handles an empty array', async () => {
    expect(await elements('[]')).toEqual([]);
    expect(await elements(' [ \n ] ')).toEqual([]);
  });

  it.each([
    ['not an array', '{"a": 1}'],
    ['truncated', '[{"component": {"uuid": "truncated'],
    ['ends early', '[1, 2'],
    ['garbage element', '[1, nope, 3]'],
    ['data after the end', '[1] [2]'],
    ['empty answer', ''],
  ])('rejects malformed input: %s', async (_name, text) => {
    await expect(elements(text)).rejects.toBeInstanceOf(SyntaxError);
  });
});
