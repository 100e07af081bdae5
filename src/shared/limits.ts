/**
 * Size limits every door shares. A WebSocket frame above MAX_FRAME_BYTES is refused (close 1009), so
 * every input schema must fit below it even in the worst case (test/contract-limits.test.ts checks
 * each string and array cap: a JSON-escaped character can take 6 bytes).
 */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024

/** One saved terminal transcript (the renderer keeps the most recent part of a longer one). */
export const MAX_TRANSCRIPT_CHARS = 1_000_000

/** One keystroke batch / paste into a terminal. */
export const MAX_TERMINAL_INPUT_CHARS = 1_000_000
