/**
 * Terminal output on the browser door's WebSocket: one binary frame per `terminal.data` event, so
 * the bytes travel as they are (no base64: a third fewer bytes, and no decode loop in the page).
 * Every other message stays JSON text. Layout: [0x01][id length: 1 byte][id, UTF-8][the bytes].
 * The desktop door needs none of this: IPC carries the event's Uint8Array as it is.
 */
export const TERMINAL_FRAME = 0x01

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeTerminalFrame(id: string, data: Uint8Array): Uint8Array {
  const idBytes = encoder.encode(id)
  if (idBytes.length > 255) throw new Error('terminal id too long for a frame')
  const out = new Uint8Array(2 + idBytes.length + data.length)
  out[0] = TERMINAL_FRAME
  out[1] = idBytes.length
  out.set(idBytes, 2)
  out.set(data, 2 + idBytes.length)
  return out
}

/** The event a frame carries, or undefined for a frame that is not a terminal frame. `data` is a view, not a copy. */
export function decodeTerminalFrame(frame: Uint8Array): { type: 'terminal.data'; id: string; data: Uint8Array } | undefined {
  if (frame.length < 2 || frame[0] !== TERMINAL_FRAME || frame.length < 2 + frame[1]) return undefined
  const end = 2 + frame[1]
  return { type: 'terminal.data', id: decoder.decode(frame.subarray(2, end)), data: frame.subarray(end) }
}
