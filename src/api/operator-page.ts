import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';

/**
 * The page's policy: scripts, styles and data from this origin only, no inline script or style, no
 * framing, no plugins. Tool data is rendered as text by the page; this is the second line of defence.
 */
export const OPERATOR_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The static files of the page: next to the compiled API (a build copies them), else in the sources. */
function pageDirectory(): string {
  const besideApi = fileURLToPath(new URL('../ui/', import.meta.url));
  return existsSync(`${besideApi}index.html`) ? besideApi : fileURLToPath(new URL('../../src/ui/', import.meta.url));
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', OPERATOR_PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-cache');
  next();
};

/**
 * The operator's web page under `/ui/` (and `/` redirecting there): public static files only. Everything
 * it shows comes from `/api/v1` with the token the person signs in with, which the page keeps in
 * sessionStorage, never in a URL.
 */
export function operatorPage(): Router {
  const router = express.Router();
  router.get('/', securityHeaders, (_req, res) => res.redirect(302, '/ui/'));
  router.use('/ui', securityHeaders, express.static(pageDirectory(), { index: 'index.html', redirect: true, dotfiles: 'ignore', etag: false }));
  return router;
}
