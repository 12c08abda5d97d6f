const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Yields the elements of a top-level JSON array read from a text stream, each parsed on its own with
 * `JSON.parse`, so an answer of any size is never held whole: at most one element's text (and one chunk)
 * is in memory. Malformed input throws a SyntaxError. The stream must yield strings (set its encoding), so
 * multi-byte characters split across chunks arrive whole.
 */
export async function* jsonArrayElements(chunks: AsyncIterable<string>): AsyncGenerator<unknown> {
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let elementOpen = false;

  for await (const chunk of chunks) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (ended) {
        if (!isSpace(c)) throw new SyntaxError('unexpected data after the end of the JSON array');
        continue;
      }
      if (!started) {
        if (isSpace(c)) continue;
        if (c !== OPEN_BRACKET) throw new SyntaxError('the answer is not a JSON array');
        started = true;
        from = i + 1;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) {
        inString = true;
        elementOpen = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
        elementOpen = true;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) {
          if (c !== CLOSE_BRACKET) throw new SyntaxError('unbalanced } in the JSON array');
          element += chunk.slice(from, i);
          if (elementOpen || element.trim() !== '') yield JSON.parse(element);
          element = '';
          elementOpen = false;
          ended = true;
          continue;
        }
        depth--;
      } else if (c === COMMA && depth === 0) {
        element += chunk.slice(from, i);
        yield JSON.parse(element);
        element = '';
        elementOpen = false;
        from = i + 1;
      } else if (!isSpace(c)) {
        elementOpen = true;
      }
    }
    if (started && !ended) element += chunk.slice(from);
  }
  if (!ended) throw new SyntaxError(started ? 'the JSON array ends early' : 'the answer is empty, not a JSON array');
}
