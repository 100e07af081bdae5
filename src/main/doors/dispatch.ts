import { inputs, isMethod, type Handlers } from '../../shared/api'
import { MigLabError, toApiError, type ApiError } from '../../shared/errors'

export type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError }

/** Every door calls the core through here: unknown methods and bad input are refused with the reason. */
export async function dispatch(handlers: Handlers, method: unknown, rawInput: unknown): Promise<Outcome> {
  try {
    if (!isMethod(method)) {
      throw new MigLabError('unknown_method', `MigLab has no method called ${JSON.stringify(method)}.`, {
        hint: 'The renderer and the core come from different versions; restart MigLab.',
      })
    }
    const parsed = inputs[method].safeParse(rawInput ?? {})
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message }))
      throw new MigLabError(
        'invalid_input',
        `Invalid input for ${method}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`,
        { issues, hint: 'Correct the highlighted fields and try again.' },
      )
    }
    const handler = handlers[method] as (input: unknown) => Promise<unknown>
    return { ok: true, result: await handler(parsed.data) }
  } catch (err) {
    return { ok: false, error: toApiError(err) }
  }
}
