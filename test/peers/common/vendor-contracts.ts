import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the vendors' API contracts are: the folder `shared` beside this repository (Severa's and Microsoft Graph's
 * public OpenAPI documents, unchanged extracts). They are third-party files, never committed here: CI has the folder,
 * a user's clone does not. Only the tests that check the simulators against them use them; everything else (the
 * simulators, the demo, the benchmarks, the product) runs without. `SCS_VENDOR_CONTRACTS_DIR` points elsewhere (an
 * empty folder shows what a bare clone does).
 */

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
export const VENDOR_CONTRACTS_DIR = process.env.SCS_VENDOR_CONTRACTS_DIR
  ? resolve(process.env.SCS_VENDOR_CONTRACTS_DIR)
  : resolve(REPOSITORY, '..', 'shared');

export interface VendorContract {
  path: string;
  available: boolean;
  /** Why the tests that need it are skipped, for their titles. */
  skipReason: string;
}

export function vendorContract(name: string, ...segments: string[]): VendorContract {
  const path = join(VENDOR_CONTRACTS_DIR, ...segments);
  return {
    path,
    available: existsSync(path),
    skipReason: `skipped: the ${name} is not at ${path} (a third-party file, never committed; CI has it)`,
  };
}
