// Bundled by bench/terminal.ts into a blank page: xterm.js on its own, with the app's options and
// the app's terminal size, fed the bench's bytes with no network, SSH or flow control at all. What
// it reaches is the ceiling for the full path on this machine.
import { FitAddon } from '@xterm/addon-fit'
import { Terminal } from '@xterm/xterm'

declare global {
  interface Window {
    xtermCeiling(o: { bytes: number; width: number; height: number; hidden: boolean }): Promise<number>
  }
}

window.xtermCeiling = async ({ bytes, width, height, hidden }) => {
  const host = document.createElement('div')
  Object.assign(host.style, { width: `${width}px`, height: `${height}px`, display: hidden ? 'none' : 'block' })
  document.body.appendChild(host)
  // The options of src/renderer/src/terminal/TerminalView.tsx.
  const term = new Terminal({ fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', fontSize: 13, cursorBlink: true, scrollback: 10_000 })
  const fit = new FitAddon()
  term.loadAddon(fit)
  term.open(host)
  if (!hidden) fit.fit()
  // The pty's output for the bench's `yes` lines (ONLCR turns \n into \r\n), in 64 KiB writes as the core coalesces them.
  const line = 'MigLab terminal throughput: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMN\r\n'
  const chunk = new TextEncoder().encode(line.repeat(Math.ceil(65536 / line.length))).subarray(0, 65536)
  const writes = Math.ceil(bytes / chunk.length)
  const start = performance.now()
  await new Promise<void>((resolve) => {
    let done = 0
    for (let i = 0; i < writes; i++) term.write(chunk, () => ++done === writes && resolve())
  })
  const seconds = (performance.now() - start) / 1000
  term.dispose()
  host.remove()
  return (writes * chunk.length) / seconds
}
