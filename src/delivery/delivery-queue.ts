import type { PendingDelivery } from './pending-delivery.js';

/**
 * The order in which accepted reports wait for a send slot and a rate permit. Storage is behind
 * this port; durability is the journal's job (src/journal), not the queue's.
 */
export interface DeliveryQueue {
  readonly length: number;
  /** A newly accepted report goes to the back. */
  push(item: PendingDelivery): void;
  /** A report whose retry came due goes to the front: it has waited longest. */
  pushFront(item: PendingDelivery): void;
  /** Removes and returns up to `max` reports from the front. */
  take(max: number): PendingDelivery[];
}

/**
 * An in-memory double-ended queue on a growable ring buffer: O(1) push, pushFront and take per
 * item, without Array.shift's O(n) copy.
 */
export class InMemoryDeliveryQueue implements DeliveryQueue {
  private buffer: (PendingDelivery | undefined)[] = new Array<PendingDelivery | undefined>(64);
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: PendingDelivery): void {
    this.growIfFull();
    this.buffer[(this.head + this.size) % this.buffer.length] = item;
    this.size += 1;
  }

  pushFront(item: PendingDelivery): void {
    this.growIfFull();
    this.head = (this.head - 1 + this.buffer.length) % this.buffer.length;
    this.buffer[this.head] = item;
    this.size += 1;
  }

  take(max: number): PendingDelivery[] {
    const count = Math.min(max, this.size);
    const taken: PendingDelivery[] = [];
    for (let i = 0; i < count; i += 1) {
      const item = this.buffer[this.head];
      this.buffer[this.head] = undefined;
      this.head = (this.head + 1) % this.buffer.length;
      this.size -= 1;
      if (item !== undefined) taken.push(item);
    }
    return taken;
  }

  private growIfFull(): void {
    if (this.size < this.buffer.length) return;
    const grown = new Array<PendingDelivery | undefined>(this.buffer.length * 2);
    for (let i = 0; i < this.size; i += 1) grown[i] = this.buffer[(this.head + i) % this.buffer.length];
    this.buffer = grown;
    this.head = 0;
  }
}
