import type { z } from 'zod'
import { inputs, isMethod, LOCAL_CALLER, type Caller, type Handlers } from '../../shared/api'
import { MigLabError, toApiError, type ApiError } from '../../shared/errors'

export type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError }

type RawIssue = z.core.$ZodRawIssue
const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a group of settings',
}

/**
 * Zod's default messages ("Too big: expected string to have <=128 characters") as short phrases a
 * person reads after a field name: "at most 128 characters". Messages a schema spells out itself
 * are kept as written.
 */
function phrase(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required'
      if (iss.expected === 'number' && typeof iss.input === 'number') return 'a finite number'
      return TYPE_WORDS[iss.expected] ?? `of type ${iss.expected}`
    case 'too_big': {
      const max = Number(iss.maximum)
      if (iss.origin === 'string') return `at most ${max} characters`
      if (iss.origin === 'array' || iss.origin === 'set') return `at most ${max} ${max === 1 ? 'item' : 'items'}`
      return iss.inclusive === false ? `less than ${max}` : `at most ${max}`
    }
    case 'too_small': {
      const min = Number(iss.minimum)
      if (iss.origin === 'string') return min <= 1 ? 'must not be empty' : `at least ${min} characters`
      if (iss.origin === 'array' || iss.origin === 'set') return min <= 1 ? 'at least one' : `at least ${min} items`
      return iss.inclusive === false ? `more than ${min}` : `at least ${min}`
    }
    case 'invalid_value':
      return `one of ${iss.values.map((v) => String(v)).join(', ')}`
    case 'invalid_union':
      return 'not one of the accepted kinds'
    case 'invalid_format':
      return 'not in the expected format'
    default:
      return undefined
  }
}

/** Bad input as a list of `{ path, message }`, the first problem of each field; an unknown field is reported at its own path. */
export function inputIssues(error: z.ZodError): { path: string; message: string }[] {
  const all = error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: [...i.path, k].join('.'), message: 'not a setting MigLab knows' }))
      : [{ path: i.path.join('.') || '(input)', message: i.message }],
  )
  return all.filter((i, n) => all.findIndex((j) => j.path === i.path) === n)
}

/** Every door calls the core through here: unknown methods and bad input are refused with the reason. */
export async function dispatch(handlers: Handlers, method: unknown, rawInput: unknown, caller: Caller = LOCAL_CALLER): Promise<Outcome> {
  try {
    if (!isMethod(method)) {
      throw new MigLabError('unknown_method', `MigLab has no method called ${JSON.stringify(String(method)).slice(0, 80)}.`, {
        hint: 'The renderer and the core come from different versions; restart MigLab.',
      })
    }
    const parsed = inputs[method].safeParse(rawInput ?? {}, { error: phrase })
    if (!parsed.success) {
      // Door-neutral words: each door names its own fields (the CLI its flags, the UI its form labels) from `issues`.
      const issues = inputIssues(parsed.error)
      throw new MigLabError('invalid_input', `Not accepted: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`, {
        issues,
        hint: 'Correct these values and try again.',
      })
    }
    const handler = handlers[method] as (input: unknown, caller: Caller) => Promise<unknown>
    return { ok: true, result: await handler(parsed.data, caller) }
  } catch (err) {
    return { ok: false, error: toApiError(err) }
  }
}
