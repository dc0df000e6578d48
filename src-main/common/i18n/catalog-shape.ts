/** A translation of a catalog: the same keys, every leaf a string (a missing or extra key is a type error). */
export type CatalogOf<T> = { [K in keyof T]: T[K] extends string ? string : CatalogOf<T[K]> };
