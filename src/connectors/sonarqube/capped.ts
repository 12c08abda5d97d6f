import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { valueAt, type CustomPages } from '../declarative/index.js';

/** SonarQube serves at most the first 10,000 results of one query (p × ps beyond it is a 400). */
export const RESULT_CAP = 10_000;

/** How a query over the cap is cut: once per value of a filter, or (repeatedly) into halves of a creation-date range. */
export type Split = { param: string; values: readonly string[] } | { afterParam: string; beforeParam: string };

/** One query of the split: its extra filters, which split cuts it further, and its date range (epoch seconds, end exclusive). */
const part = z.object({ query: z.record(z.string(), z.string()), depth: z.number().int(), range: z.tuple([z.number(), z.number()]).optional() });
type Part = z.infer<typeof part>;
/** The resume position: the queries still to run (the first one current) and its next page. */
const position = z.object({ parts: z.array(part), page: z.number().int().min(1) });
type Position = z.infer<typeof position>;

/** SonarQube's datetime form (`2024-05-01T12:00:00+0000`); `createdAfter` is inclusive, `createdBefore` exclusive. */
const sonarTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+0000');

/**
 * `p`/`ps` paging with `paging.total` that splits any query whose total exceeds RESULT_CAP: by each value of
 * the first split (severity), then by halving the creation-date range, until every part fits. The position
 * is the list of parts still to run and the page of the first, so a retried fetch resumes inside the split.
 */
export function cappedSearch(pageSize: number, splits: readonly Split[]): CustomPages {
  return async function* (client, first, ctx, { startAt, itemsOf }) {
    let at: Position = typeof startAt === 'string' ? parsePosition(startAt) : { parts: [{ query: {}, depth: 0 }], page: 1 };
    while (at.parts.length > 0) {
      const [current, ...rest] = at.parts as [Part, ...Part[]];
      const response = await client.request({ ...first, query: { ...first.query, ...current.query, p: at.page, ps: pageSize } }, ctx);
      const total = valueAt(response.body, 'paging.total');
      if (typeof total !== 'number') throw new ConnectorError('BAD_TOOL_DATA', `The answer to GET ${response.url.pathname} has no paging.total`);
      if (total > RESULT_CAP) {
        // Its pages beyond the cap cannot be read: run its parts instead, from their first pages (a part that
        // grew past the cap on a resumed fetch is read again; the reimport collapses what it reads twice).
        at = { parts: [...split(current, splits, client.toolName), ...rest], page: 1 };
        continue;
      }
      const items = itemsOf(response.body, response);
      const done = items.length === 0 || (at.page - 1) * pageSize + items.length >= total;
      at = done ? { parts: rest, page: 1 } : { parts: at.parts, page: at.page + 1 };
      yield { items, next: at.parts.length > 0 ? JSON.stringify(at) : null, response };
    }
  };
}

function split(current: Part, splits: readonly Split[], tool: string): Part[] {
  const by = splits[current.depth];
  if (by && 'param' in by) return by.values.map((value) => ({ query: { ...current.query, [by.param]: value }, depth: current.depth + 1 }));
  const [from, to] = current.range ?? [0, Math.ceil(Date.now() / 1000) + 86_400];
  if (!by || to - from <= 1) {
    throw new ConnectorError('BAD_TOOL_DATA', `${tool} has more than ${RESULT_CAP} results for one query it cannot split further (${JSON.stringify(current.query)})`);
  }
  const middle = Math.floor((from + to) / 2);
  const half = (range: [number, number]): Part => ({
    query: { ...current.query, [by.afterParam]: sonarTime(range[0]), [by.beforeParam]: sonarTime(range[1]) },
    depth: current.depth,
    range,
  });
  return [half([from, middle]), half([middle, to])];
}

function parsePosition(text: string): Position {
  try {
    return position.parse(JSON.parse(text));
  } catch {
    // A cursor from another version of this connector: starting over is correct, only slower.
    return { parts: [{ query: {}, depth: 0 }], page: 1 };
  }
}
