import { ConnectorError } from '../../errors.js';
import type { HttpResponse, ItemsOf } from '../http/index.js';
import type { FieldSource } from './definition.js';

/** The value at a dotted path (`pagination.next_page`, `location.line`); the whole value for ''. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The record selector: the items array at `path` of a page's body (the body itself for ''). */
export function itemsAt(path: string): ItemsOf<unknown> {
  return (body: unknown, response: HttpResponse) => {
    const items = valueAt(body, path);
    if (Array.isArray(items)) return items;
    const where = path === '' ? 'is not a list' : `has no list at "${path}"`;
    throw new ConnectorError('BAD_TOOL_DATA', `The answer to GET ${response.url.pathname} ${where}`, {
      url: `${response.url.origin}${response.url.pathname}`,
    });
  };
}

/** What a template may refer to: the connector's settings, the Record being fetched, the parent item of a sub-listing, the lookups. */
export interface TemplateScope {
  settings: unknown;
  record?: { externalId: string; name: string; metadata: Record<string, unknown> | null };
  parent?: unknown;
  /** The answers to the findings stream's lookups, by name. */
  lookups?: Record<string, unknown>;
}

/**
 * Fills `{a.b}` placeholders from the scope. In paths each value is URL-encoded as one segment; `{+a.b}`
 * keeps `/` (RFC 6570 reserved expansion) for names that are paths themselves; `{%a.b}` encodes twice, for
 * APIs whose router decodes a segment once before its handler decodes it again (Harbor's repository names:
 * `a/b` → `a%252Fb`). A placeholder without a value is CONFIG_INVALID: the request would go somewhere else
 * than meant.
 */
export function interpolate(template: string, scope: TemplateScope, encode: boolean): string {
  return template.replace(/\{([+%]?)([A-Za-z0-9_.]+)\}/g, (_whole, modifier: string, path: string) => {
    const value = valueAt(scope, path);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ConnectorError('CONFIG_INVALID', `"${path}" has no value for the request ${template}; run a discovery to refresh the record`);
    }
    const text = String(value);
    if (!encode) return text;
    const encoded = encodeURIComponent(text);
    if (modifier === '%') return encodeURIComponent(encoded);
    return modifier === '+' ? encoded.replace(/%2F/gi, '/') : encoded;
  });
}

/** Reads a field source: a dotted path into the item, or the definition's own function. */
export function read<Item, T>(source: FieldSource<Item, T>, item: Item, scope: TemplateScope): unknown {
  return typeof source === 'function' ? source(item, scope) : valueAt(item, source);
}
