import { Readable } from 'node:stream';
import { jsonArrayElements, WHOLE_PARSE_MAX_BYTES } from '../../src/connectors/http/json-array-stream.js';

/** The text as UTF-8 bytes cut every `size` bytes, so multi-byte characters are split across chunks. */
async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  // The padding that makes an answer stream (below) arrives in one piece; cut into bytes it would only be slow.
  const padding = text.length - text.trimStart().length;
  if (padding > WHOLE_PARSE_MAX_BYTES) {
    yield Buffer.from(text.slice(0, padding));
    text = text.slice(padding);
  }
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function elements(text: string, size = 3): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of jsonArrayElements(chunked(text, size))) out.push(value);
  return out;
}

/** Leading whitespace that takes an answer past the size parsed whole, so it streams. */
const streamed = (text: string) => ' '.repeat(WHOLE_PARSE_MAX_BYTES + 1) + text;
const paths = [
  ['parsed whole', (text: string) => text],
  ['streamed', streamed],
] as const;

describe.each(paths)('jsonArrayElements, %s', (_path, sized) => {
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
    const text = sized(` \n[ ${tricky.map((v) => JSON.stringify(v)).join(' ,\n ')} ]\n `);
    expect(await elements(text, size)).toEqual(JSON.parse(text));
  });

  it('handles an empty array', async () => {
    expect(await elements(sized('[]'))).toEqual([]);
    expect(await elements(sized(' [ \n ] '))).toEqual([]);
  });

  it.each([
    ['a trailing comma', '[1,]'],
    ['a leading comma', '[,1]'],
    ['a missing comma', '[1 2]'],
    ['not an array', '{"a": 1}'],
    ['a bare value', '42'],
    ['truncated', '[{"component": {"uuid": "truncated'],
    ['ends early', '[1, 2'],
    ['garbage element', '[1, nope, 3]'],
    ['data after the end', '[1] [2]'],
    ['empty answer', ''],
  ])('rejects malformed input with a SyntaxError: %s', async (_name, text) => {
    await expect(elements(sized(text), 4096)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('passes an error of the source on as it is, not as malformed JSON', async () => {
    const broken = new Error('socket hang up');
    const source = new Readable({ read() {} });
    source.push(sized('[1, 2, '));
    setImmediate(() => source.destroy(broken));
    const seen: unknown[] = [];
    const failure = await (async () => {
      for await (const value of jsonArrayElements(source)) seen.push(value);
    })().catch((err: unknown) => err);
    expect(failure).toBe(broken);
    // A streamed answer yields what arrived before the break; one parsed whole yields nothing of it.
    expect(seen).toEqual(sized === streamed ? [1, 2] : []);
  });

  it('stops reading the source when the consumer stops early', async () => {
    const source = Readable.from(chunked(sized(`[${Array.from({ length: 1000 }, (_, i) => i).join(',')}]`), 4096));
    for await (const value of jsonArrayElements(source)) if (value === 3) break;
    expect(source.destroyed).toBe(true);
  });
});
