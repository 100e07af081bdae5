import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CODE_TTL_MS, type BrowserDoor } from './http-ws'

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * Opens the browser door in the user's browser without putting a secret on a command line (every
 * local user can read /proc/PID/cmdline). The browser gets the path of a small redirect page written
 * 0600 into the private data directory (0700); that page forwards to a one-time, short-lived code
 * which the page trades for the token over POST /session. The process list shows only a file path,
 * and the browser history keeps only a spent code.
 */
export function openInBrowser(door: BrowserDoor, privateDir: string, opener: string): { file: string; remove(): void } {
  const url = door.oneTimeUrl()
  const file = join(privateDir, `open-${door.port}.html`)
  rmSync(file, { force: true })
  writeFileSync(
    file,
    `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
      `<meta http-equiv="refresh" content="0;url=${escapeHtml(url)}"><title>Opening MigLab…</title>` +
      `<p>Opening MigLab… If nothing happens, <a href="${escapeHtml(url)}">continue here</a>.</p>\n`,
    { mode: 0o600, flag: 'wx' },
  )
  const child = spawn(opener, [file], { stdio: 'ignore', detached: true })
  child.on('error', () => undefined)
  child.unref()
  const remove = () => rmSync(file, { force: true })
  // The code inside is spent or expired by then; the page has no reason to stay.
  setTimeout(remove, CODE_TTL_MS).unref()
  return { file, remove }
}
