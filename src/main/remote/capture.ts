import { cmd, type RemoteCommand } from './command'

/** Remote commands of the switchover capture: tcpdump on a guest's tap, text out, in a private temp folder. */

// Prints the folder it made, once tcpdump listens (its own stderr says so); any failure prints why and exits 1.
const START = `command -v tcpdump >/dev/null || { echo 'tcpdump is not installed' >&2; exit 1; }
d=$(mktemp -d "\${TMPDIR:-/tmp}/miglab-wire.XXXXXX") || exit 1
setsid tcpdump -i "$1" -nn -e -tt -l --immediate-mode "$2" >"$d/packets" 2>"$d/err" </dev/null &
echo $! >"$d/pid"
i=0; while [ $i -lt 100 ]; do
  grep -q 'listening on' "$d/err" && { echo "$d"; exit 0; }
  kill -0 $! 2>/dev/null || { cat "$d/err" >&2; rm -rf "$d"; exit 1; }
  sleep 0.05; i=$((i + 1))
done
cat "$d/err" >&2; kill $! 2>/dev/null; rm -rf "$d"; exit 1`

/** Starts capturing the frames to and from `mac` on `iface` (UDP, ARP, RARP); prints the capture's folder. */
export const startCapture = (iface: string, mac: string): RemoteCommand => cmd('sh', '-c', START, 'sh', iface, `ether host ${mac} and (udp or arp or rarp)`)

// SIGINT makes tcpdump flush what it buffered; the folder goes once its text is printed.
const STOP = `p=$(cat "$1/pid" 2>/dev/null) && kill -INT "$p" 2>/dev/null
i=0; while [ $i -lt 40 ] && kill -0 "$p" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -KILL "$p" 2>/dev/null; cat "$1/packets"; rm -rf "$1"`

/** Stops the capture started in `dir`, prints its packets and removes the folder. */
export const stopCapture = (dir: string): RemoteCommand => cmd('sh', '-c', STOP, 'sh', dir)
