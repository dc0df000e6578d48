/**
 * A seeded random source for the soak: the same seed gives the same workload, faults and kill points, so a failing run
 * can be replayed with `npm run soak -- --seed N`.
 */
export class SeededRandom {
  #state: number;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`The seed must be a whole number, got ${String(seed)}.`);
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** mulberry32: small and fast; statistical quality is more than a workload needs. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): max is below min.`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list.');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by weight; entries with weight 0 are never chosen. */
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T {
    const entries = Object.entries(weights) as Array<[T, number]>;
    const total = entries.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
    if (total <= 0) throw new RangeError('weighted() needs at least one positive weight.');
    let draw = this.next() * total;
    for (const [key, w] of entries) {
      draw -= Math.max(0, w);
      if (draw < 0) return key;
    }
    return entries[entries.length - 1][0];
  }

  /** A few distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]);
    return out;
  }

  /** A new generator whose sequence depends on this one's seed and `label` but not on how much this one was used. */
  fork(label: string): SeededRandom {
    let h = this.seed ^ 0x9e3779b9;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return new SeededRandom(h >>> 0);
  }
}
