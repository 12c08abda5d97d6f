import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * docs/benchmarks.md is written by several benchmarks: each owns a section between `<!-- name:start -->` and
 * `<!-- name:end -->` and rewrites only that, so running one benchmark keeps the others' figures.
 */
export const BENCHMARKS_DOC = new URL('../docs/benchmarks.md', import.meta.url);

const SECTION = /<!-- ([a-z0-9-]+):start -->[\s\S]*?<!-- \1:end -->\n?/g;

function delimited(name: string, body: string): string {
  return `<!-- ${name}:start -->\n${body.trim()}\n<!-- ${name}:end -->\n`;
}

/** Every delimited section of the file, as written (for a benchmark that rewrites the rest of it). */
export function delimitedSections(file: URL = BENCHMARKS_DOC): string {
  if (!existsSync(file)) return '';
  return [...readFileSync(file, 'utf8').matchAll(SECTION)].map((m) => m[0]).join('\n');
}

/** Replaces the section `name` of the file with `body`, or appends it when the file has none yet. */
export function writeSection(name: string, body: string, file: URL = BENCHMARKS_DOC): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const own = new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->\\n?`);
  const next = own.test(text) ? text.replace(own, () => delimited(name, body)) : `${text.trimEnd()}\n\n${delimited(name, body)}`;
  writeFileSync(file, next);
}
