import type { FetchCursor, FindingPage, NormalizedFinding } from './types.js';

/**
 * Splits findings already in a stable order into pages of at most `pageSize`, so staging stays bounded
 * however much one unpaginated answer holds. Each page's cursor is `resumeAfter(its last finding)`; the
 * last page's is null. Zero findings still make one (empty) page, so a caller always sees the end.
 */
export function* pagesOfFindings(
  findings: readonly NormalizedFinding[],
  pageSize: number,
  resumeAfter: (last: NormalizedFinding) => FetchCursor,
): Generator<FindingPage> {
  if (findings.length === 0) {
    yield { findings: [], cursor: null };
    return;
  }
  for (let start = 0; start < findings.length; start += pageSize) {
    const page = findings.slice(start, start + pageSize);
    const isLast = start + pageSize >= findings.length;
    yield { findings: page, cursor: isLast ? null : resumeAfter(page[page.length - 1]!) };
  }
}

/**
 * Holds each page back until the next one is known, so that the page yielded last carries cursor null
 * (the FindingPage contract) even when the stream behind it only learns it has ended after one more call.
 * Zero pages become one empty page.
 */
export async function* endingWithNullCursor(pages: AsyncIterable<FindingPage>): AsyncGenerator<FindingPage> {
  let held: FindingPage | undefined;
  for await (const page of pages) {
    if (held) yield held;
    held = page;
  }
  yield held ? { ...held, cursor: null } : { findings: [], cursor: null };
}
