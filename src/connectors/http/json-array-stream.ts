import { Readable } from 'node:stream';
import streamArray from 'stream-json/streamers/stream-array.js';

/**
 * Yields the elements of a top-level JSON array read from a stream of UTF-8 bytes (chunks may split a
 * character), one at a time, so an answer of any size is never held whole: stream-json assembles one
 * element while the rest of the text streams past. JSON that is malformed, truncated, or not an array
 * throws a SyntaxError; an error of the source (a broken connection) is thrown as it is, so callers can
 * tell the tool's data from the network.
 */
export async function* jsonArrayElements(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const source = chunks instanceof Readable ? chunks : Readable.from(chunks);
  // Whole values only (no token per piece of a string or number): nearly twice as fast, and an element is
  // held whole for assembly anyway.
  const elements = streamArray.withParserAsStream({ streamValues: false });
  let sourceError: unknown;
  source.once('error', (err) => {
    sourceError = err;
    elements.destroy(err);
  });
  source.pipe(elements);
  try {
    for await (const element of elements as AsyncIterable<{ key: number; value: unknown }>) yield element.value;
  } catch (err) {
    if (sourceError !== undefined && err === sourceError) throw err;
    throw new SyntaxError(`not a well-formed JSON array: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    // A consumer that stops early (or a failure) must not leave the answer streaming into nowhere.
    source.destroy();
    elements.destroy();
  }
}
