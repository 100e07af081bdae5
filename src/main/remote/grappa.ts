import { cmd, type RemoteCommand } from './command'

/** Where `make demo-hello_world` leaves its binary, relative to the source tree. */
export const GRAPPA_HELLO = 'build/Make+Release/applications/demos/hello_world/hello_world.exe'

/**
 * Prints what the Grappa step needs to know about a node, one `key value` line each: whether the
 * source tree (its `configure`) and the third-party tarball are there, whether hello_world is
 * built, and the versions of ruby, cmake and gcc (empty when missing). Always exits 0.
 */
export const grappaProbe = (source: string, thirdParty: string): RemoteCommand =>
  cmd(
    'sh',
    '-c',
    `[ -f "$1/configure" ] && echo "source yes" || echo "source no"
[ -n "$2" ] && [ -f "$2" ] && echo "tarball yes" || echo "tarball no"
[ -x "$1/$3" ] && echo "built yes" || echo "built no"
echo "ruby $(ruby -e 'print RUBY_VERSION' 2>/dev/null)"
echo "cmake $(cmake --version 2>/dev/null | sed -n 's/^cmake version \\([0-9.]*\\).*/\\1/p')"
echo "gcc $(gcc -dumpfullversion -dumpversion 2>/dev/null)"`,
    'sh',
    source,
    thirdParty,
    GRAPPA_HELLO,
  )

/**
 * Grappa's own build: `./configure` with this node's gcc/g++ (and the third-party tarball when
 * given, else configure downloads Boost 1.54 and gflags), then `make demo-hello_world`.
 */
export const grappaBuild = (source: string, thirdParty: string): RemoteCommand =>
  cmd(
    'sh',
    '-c',
    'cd "$1" && ./configure --cc="$(command -v gcc)" --cxx="$(command -v g++)" ${2:+--third-party-tarfile="$2"} && cd build/Make+Release && make -j"$(nproc)" demo-hello_world',
    'sh',
    source,
    thirdParty,
  )
