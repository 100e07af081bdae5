import type { ApiEvent, EventListener } from '../shared/events'

/** The core's one outgoing stream; every door subscribes and forwards. */
export class EventBus {
  private readonly listeners = new Set<EventListener>()

  emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A broken door must not stop the others from hearing the event.
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
