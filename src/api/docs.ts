import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { type Router } from 'express';

/** Where Swagger UI is served; the page loads the OpenAPI document next to it. */
export const DOCS_PATH = '/api/v1/docs';

// The page's own start script: the bundled one points at the Petstore demo. The document is found relative
// to the page, so the UI also works behind a proxy that mounts the API under a prefix.
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: new URL('../openapi.json', window.location.href).toString(),
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;

/**
 * Swagger UI for the served OpenAPI document, from the swagger-ui-dist package's files (no CDN: the API may
 * run where there is no internet). Public like the document; a caller pastes a token into "Authorize" to try
 * routes, and it stays in the page's memory only. Static pages, not API operations, so not in the route table.
 */
export function swaggerUi(): Router {
  const assets = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const router = express.Router({ strict: true });
  // The page's relative asset links need the trailing slash.
  router.get(DOCS_PATH, (_req, res) => res.redirect(301, 'docs/'));
  router.get(`${DOCS_PATH}/swagger-initializer.js`, (_req, res) => {
    res.type('application/javascript').setHeader('Cache-Control', 'no-cache');
    res.send(INITIALIZER);
  });
  router.use(`${DOCS_PATH}/`, express.static(assets, { index: 'index.html', fallthrough: true, maxAge: '1h' }));
  return router;
}
