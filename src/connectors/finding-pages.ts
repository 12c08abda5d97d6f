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
