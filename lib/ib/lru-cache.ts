/** A small in-memory LRU keyed by string, holding at most `capacity` entries. */
export class LruCache<V> {
  /** Map iteration order is least recently used first */
  private readonly map = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** The entry, now the most recently used; an entry `expired` says is stale is dropped instead. */
  get(key: string, expired?: (value: V) => boolean): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.map.delete(key);
    if (expired?.(entry)) return undefined;
    this.map.set(key, entry);
    return entry;
  }

  /** Stores the entry as the most recently used; the least recently used beyond capacity are evicted. */
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }
}
