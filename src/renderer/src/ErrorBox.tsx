import type { ApiError } from '../../shared/errors'

/** Schema path (`auth.keyPath`) → the label of the form field that sets it (`Private key file`). */
export type FieldLabels = Record<string, string>

/** `strategies.0` → the label of `strategies`; the path itself when the form has no such field. */
function labelFor(fields: FieldLabels, path: string): string {
  const parts = path.split('.')
  for (let n = parts.length; n > 0; n--) {
    const label = fields[parts.slice(0, n).join('.')]
    if (label) return label
  }
  return path
}

/**
 * An error as people need it: what happened, what to do, and the command behind it. Bad input is
 * listed by the form's own field labels when the form passes them.
 */
export function ErrorBox({ error, fields }: { error: ApiError; fields?: FieldLabels }) {
  const issues = error.code === 'invalid_input' && fields ? error.detail?.issues : undefined
  return (
    <div className="error" role="alert">
      {issues?.length ? (
        <>
          <strong>{issues.length === 1 ? 'This field needs a change:' : 'These fields need a change:'}</strong>
          <ul>
            {issues.map((i) => (
              <li key={i.path}>
                {labelFor(fields!, i.path)}: {i.message}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <strong>{error.message}</strong>
      )}
      {error.detail?.hint && !issues?.length && <p>{error.detail.hint}</p>}
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
