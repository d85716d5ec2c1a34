// What the signed-in principal may do, from the scopes /auth/me answered: pages show a write
// button only when the server would accept the write.
import type { Me, Schemas } from './api/client';

export type Scope = Schemas['Scope'];

export function hasScope(me: Me, scope: Scope): boolean {
  return me.scopes.includes(scope) || me.scopes.includes('admin');
}
