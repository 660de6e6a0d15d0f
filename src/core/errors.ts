/**
 * One error type for all of Pave: a stable machine `code`, the HTTP status it maps to,
 * a message a developer can act on, and `details` for machines.
 */
export class PaveError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: string, status: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'PaveError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new PaveError(code, 404, message, details);
export const badInput = (code: string, message: string, details?: Record<string, unknown>) =>
  new PaveError(code, 400, message, details);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new PaveError(code, 409, message, details);

export function isPaveError(e: unknown): e is PaveError {
  return e instanceof PaveError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
