import { describe, expect, it } from 'vitest';
import { SEVERA_OPERATIONS, typedQuery } from './severa-operations.ts';
import { SEVERA_CONTRACT_AVAILABLE, contractTestTitle, severaContract } from './openapi-contract.ts';

/**
 * The simulator knows its operations without the vendor's document (severa-operations.ts); where the document is
 * present, that knowledge must be exactly what the document says.
 */
describe("the simulator's own table of Severa operations", () => {
  it.skipIf(!SEVERA_CONTRACT_AVAILABLE)(contractTestTitle('agrees with the OpenAPI document: method, path, scopes, query parameters and their types, request body'), () => {
    const contract = severaContract();
    for (const op of SEVERA_OPERATIONS) {
      const documented = contract.byId(op.operationId);
      expect({ id: op.operationId, method: documented.method, path: documented.path }).toEqual({ id: op.operationId, method: op.method, path: op.path });
      expect([...documented.scopes].sort()).toEqual([...op.scopes].sort());
      const documentedQuery = Object.fromEntries(
        documented.params.filter((p) => p.in === 'query').map((p) => [p.name, p.kind === 'array' ? `${p.itemKind}[]` : p.kind]),
      );
      expect(documentedQuery).toEqual(op.query);
      expect(documented.validateBody !== null).toBe(op.jsonBody);
    }
  });

  it('types query text: integers, booleans, repeated keys as arrays, anything else left as text', () => {
    const list = SEVERA_OPERATIONS.find((o) => o.operationId === 'Activities_GetActivities')!;
    const q = new URLSearchParams('rowCount=50&includeAsMember=TRUE&userGuids=a&userGuids=b&closed=maybe&changedSince=&notAParameter=1');
    expect(typedQuery(list, q)).toEqual({ rowCount: 50, includeAsMember: true, userGuids: ['a', 'b'], closed: 'maybe', changedSince: null });
    expect(typedQuery(list, new URLSearchParams('rowCount=ten&rowCount=2'))).toEqual({ rowCount: ['ten', '2'] });
  });
});
