import { describe, expect, it } from 'vitest'
import { inputs } from '../src/shared/api'
import { MAX_FRAME_BYTES } from '../src/shared/limits'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Def = { type: string; [k: string]: any }
const def = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def
const maxOf = (d: Def): number | undefined => (d.checks as { _zod: { def: { check: string; maximum?: number } } }[] | undefined)?.find((c) => c._zod.def.check === 'max_length')?._zod.def.maximum

/**
 * The most bytes a value accepted by `schema` can take as JSON: a string character can cost 6
 * (`\u001b`), numbers 24. Infinity, with the path, where a string or array has no cap.
 */
function worstBytes(schema: unknown, path: string, uncapped: string[]): number {
  const d = def(schema)
  switch (d.type) {
    case 'string': {
      const max = maxOf(d)
      if (max === undefined) uncapped.push(path)
      return max === undefined ? Infinity : max * 6 + 2
    }
    case 'number':
    case 'int':
      return 24
    case 'boolean':
    case 'null':
      return 5
    case 'literal':
      return Math.max(...(d.values as unknown[]).map((v) => JSON.stringify(v).length))
    case 'enum':
      return Math.max(...Object.values(d.entries as Record<string, string>).map((v) => JSON.stringify(v).length))
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return Math.max(4, worstBytes(d.innerType, path, uncapped))
    case 'pipe':
      return worstBytes(d.in, path, uncapped)
    case 'object':
      return 2 + Object.entries(d.shape as Record<string, unknown>).reduce((sum, [k, v]) => sum + k.length + 4 + worstBytes(v, `${path}.${k}`, uncapped), 0)
    case 'array': {
      const max = maxOf(d)
      if (max === undefined) uncapped.push(`${path}[]`)
      return max === undefined ? Infinity : 2 + max * (1 + worstBytes(d.element, `${path}[]`, uncapped))
    }
    case 'union':
      return Math.max(...(d.options as unknown[]).map((o) => worstBytes(o, path, uncapped)))
    default:
      throw new Error(`${path}: schema type ${d.type} not measured — teach this test about it`)
  }
}

describe('contract input caps', () => {
  it('every input of every method fits in one WebSocket frame, even fully JSON-escaped', () => {
    const over: string[] = []
    for (const [method, schema] of Object.entries(inputs)) {
      const uncapped: string[] = []
      // id, method name and envelope on top of the input.
      const bytes = worstBytes(schema, method, uncapped) + 64 + method.length
      if (uncapped.length) over.push(`${method}: no length cap on ${uncapped.join(', ')}`)
      else if (bytes > MAX_FRAME_BYTES) over.push(`${method}: up to ${bytes} bytes > ${MAX_FRAME_BYTES}`)
    }
    expect(over).toEqual([])
  })
})
