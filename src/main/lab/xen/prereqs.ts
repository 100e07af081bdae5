import { MigLabError } from '../../../shared/errors'
import { which } from '../../system/which'
import { checkPrerequisites } from '../prereqs'

/** What the Xen lab needs beyond the QEMU demo lab's tools, and the Debian package of each. */
const XEN_TOOLS = {
  debootstrap: 'debootstrap',
  chroot: 'coreutils',
  'mkfs.ext4': 'e2fsprogs',
  tar: 'tar',
  zcat: 'gzip',
} as const

/** Everything the Xen lab needs on this host (root, the demo lab's tools, debootstrap…); one error naming the exact fix. */
export function checkXenPrerequisites(): ReturnType<typeof checkPrerequisites> {
  const tools = checkPrerequisites()
  const missing = [...new Set(Object.entries(XEN_TOOLS).filter(([command]) => !which(command)).map(([, pkg]) => pkg))].sort()
  if (missing.length > 0) {
    throw new MigLabError('demo_lab_missing_packages', `The Xen demo lab needs packages that are not installed: ${missing.join(' ')}.`, {
      hint: `apt-get install --no-install-recommends ${missing.join(' ')}`,
      missing,
    })
  }
  return tools
}
