import type { z } from 'zod';
import type { auditEventView, findingView, importView, operationView } from '../../src/api/views.js';

/**
 * An API answer's JSON body as a test reads it by default: the test asserts its fields with `expect`, and a
 * test that leans on a field's type asks for one of the views below instead.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a body is checked by expect; typing every answer would restate src/api/views.ts
export type AnswerBody = any;

export type OperationAnswer = z.output<typeof operationView>;
export type FindingAnswer = z.output<typeof findingView>;
export type ImportAnswer = z.output<typeof importView>;
export type AuditEventAnswer = z.output<typeof auditEventView>;
