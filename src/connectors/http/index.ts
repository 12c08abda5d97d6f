export {
  allOfAuth,
  apiKeyHeaderAuth,
  basicAuth,
  bearerAuth,
  MIN_REDACTED_LENGTH,
  redactSecrets,
  secretsIn,
  tokenAuth,
  type Authenticator,
  type RequestToSign,
} from './auth.js';
export {
  createHttpClient,
  DEFAULT_RESPONSE_LIMITS,
  ERROR_BODY_LIMIT_BYTES,
  vendorMessage,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  type HttpTuning,
  type NotFoundMeaning,
  type QueryValue,
  type ResponseLimits,
} from './client.js';
export {
  nextLink,
  nextLinkParam,
  paginateByCursor,
  paginateByLinkHeader,
  paginateByPageNumber,
  paginateUntilEmptyPage,
  type ItemsOf,
  type Page,
} from './paginate.js';
export { exchangedTokenAuth, type IssuedToken } from './token-exchange.js';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, isRateLimited, isTransientStatus, serverDelayMs, type RetryPolicy } from './retry-policy.js';
