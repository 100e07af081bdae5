// `npm start`: build, then open the desktop app — or, where the Electron runtime is missing, say so
// in one line and serve the same UI in browser mode.
// With a display, `serve --open` opens the browser without the token on any command line: the
// opener gets a 0600 redirect page holding a one-time code (src/main/doors/open-browser.ts).
import { spawnSync, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register()
const { electronBinary } = await import('../src/main/system/doctor.ts')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status === 0

if (!run(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'])) process.exit(1)

const electron = electronBinary()
const child = electron
  ? spawn(electron, [root], { stdio: 'inherit' })
  : (console.log('MigLab: the Electron runtime is not installed here, so the app starts in browser mode instead.'),
    spawn(process.execPath, [join(root, 'bin/miglab.mjs'), 'serve', ...process.argv.slice(2), ...(process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? ['--open'] : [])], {
      stdio: 'inherit',
    }))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => process.exit(code ?? 0))
