/** IPC channel names shared by the desktop door and the preload. */
export const CALL_CHANNEL = 'miglab:call'
export const EVENT_CHANNEL = 'miglab:event'
