/**
 * A FIFO over one array with a moving head: amortized O(1) push/shift and no
 * allocation per item. The consumed prefix is compacted once it dominates.
 */
export class Ring<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(v: T): void {
    this.#items.push(v);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    const v = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
