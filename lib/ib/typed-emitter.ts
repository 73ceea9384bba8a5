/** A minimal typed event emitter; listener exceptions are reported, never propagated. */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, ((payload: never) => void)[]>();

  constructor(private readonly onListenerError: (event: keyof E, error: unknown) => void) {}

  /** Adds a listener; returns its remover. */
  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as (payload: never) => void);
    this.listeners.set(event, list);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: (payload: E[K]) => void): void {
    const list = this.listeners.get(event);
    const i = list?.indexOf(listener as (payload: never) => void) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (payload: E[K]) => void)(payload);
      } catch (e) {
        this.onListenerError(event, e);
      }
    }
  }
}
