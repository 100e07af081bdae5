import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SERIES } from '../src/shared/metrics'

// Imports point down: shared ← core ← doors ← entries. This reads every source file's imports.
const root = resolve(__dirname, '..')
const files = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  )
const importsOf = (file: string): string[] => {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  )
}
const resolvedInside = (file: string, spec: string): string | undefined =>
  spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)) : undefined

const ELECTRON_ALLOWED = ['src/main/index.ts', 'src/preload/index.ts']

describe('layering', () => {
  const all = [...files('src')]

  it('only the Electron entry and the preload load electron (the door is typed by its own interface)', () => {
    const loadsElectron = (f: string) => /(from\s*|\(\s*)['"]electron(\/[^'"]*)?['"]\s*\)?/.test(readFileSync(join(root, f), 'utf8').replace(/electron\/package\.json/g, ''))
    expect(all.filter((f) => loadsElectron(f) && !ELECTRON_ALLOWED.includes(f))).toEqual([])
    expect(ELECTRON_ALLOWED.filter(loadsElectron)).toEqual(ELECTRON_ALLOWED)
  })

  it('the renderer imports nothing from src/main or Node', () => {
    const bad = files('src/renderer').flatMap((f) =>
      importsOf(f)
        .filter((s) => s.startsWith('node:') || (resolvedInside(f, s) ?? '').startsWith('src/main') || (resolvedInside(f, s) ?? '').startsWith('src/preload'))
        .map((s) => `${f} → ${s}`),
    )
    expect(bad).toEqual([])
  })

  it('src/shared imports only src/shared and zod', () => {
    const bad = files('src/shared').flatMap((f) =>
      importsOf(f)
        .filter((s) => (s.startsWith('.') ? !(resolvedInside(f, s) ?? '').startsWith('src/shared') : s !== 'zod'))
        .map((s) => `${f} → ${s}`),
    )
    expect(bad).toEqual([])
  })

  it('the core never imports React, the renderer or the doors', () => {
    const core = files('src/main').filter((f) => !f.startsWith('src/main/doors/') && !f.startsWith('src/main/cli') && f !== 'src/main/index.ts' && f !== 'src/main/core.ts')
    const bad = core.flatMap((f) =>
      importsOf(f)
        .filter((s) => s === 'react' || s.startsWith('react-') || /^src\/(renderer|preload|main\/doors|main\/cli)/.test(resolvedInside(f, s) ?? ''))
        .map((s) => `${f} → ${s}`),
    )
    expect(bad).toEqual([])
  })

  it('the runner and the renderer name no driver series: they ask the registry for a role', () => {
    const driverKeys = SERIES.filter((d) => d.role).map((d) => d.key)
    const bad = [...files('src/renderer'), ...files('src/main/migration')].flatMap((f) => {
      const text = readFileSync(join(root, f), 'utf8')
      return driverKeys.filter((k) => text.includes(`'${k}'`) || text.includes(`"${k}"`)).map((k) => `${f}: ${k}`)
    })
    expect(bad).toEqual([])
  })
})
