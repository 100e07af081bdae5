/** Errors cross every door as this shape: a code for programs, a sentence for people, and the cause. */
export interface ErrorDetail {
  /** What the user can do about it. */
  hint?: string
  /** The remote or local command that failed, already quoted as it ran. */
  command?: string
  /** The last lines of its stderr. */
  stderrTail?: string
  /** Schema issues for bad input. */
  issues?: { path: string; message: string }[]
  [key: string]: unknown
}

export interface ApiError {
  code: string
  message: string
  detail?: ErrorDetail
}

export class MigLabError extends Error {
  readonly code: string
  readonly detail?: ErrorDetail

  constructor(code: string, message: string, detail?: ErrorDetail) {
    super(message)
    this.name = 'MigLabError'
    this.code = code
    this.detail = detail
  }

  toJSON(): ApiError {
    return { code: this.code, message: this.message, ...(this.detail ? { detail: this.detail } : {}) }
  }
}

/** Any thrown value as the wire shape; unknown errors keep their message but get a generic code. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof MigLabError) return err.toJSON()
  if (err && typeof err === 'object' && 'code' in err && 'message' in err && typeof (err as ApiError).code === 'string') {
    const e = err as ApiError
    return { code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'internal', message }
}
