#!/usr/bin/env node
// Runs the CLI straight from the TypeScript sources, so `npx miglab …` works right after `npm ci`.
import { register } from 'tsx/esm/api'

register()
await import('../src/main/cli.ts')
