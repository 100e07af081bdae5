import type { ApiError } from '../../shared/errors'

/** An error as people need it: what happened, what to do, and the command behind it. */
export function ErrorBox({ error }: { error: ApiError }) {
  return (
    <div className="error" role="alert">
      <strong>{error.message}</strong>
      {error.detail?.hint && <p>{error.detail.hint}</p>}
      {error.detail?.command && (
        <details>
          <summary>Command and output</summary>
          <pre>{error.detail.command}</pre>
          {error.detail.stderrTail && <pre>{error.detail.stderrTail}</pre>}
        </details>
      )}
    </div>
  )
}
