// The action plans and their items, for picking an event's plan item by name.
import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from './api/client';
import { remember, remembered } from './state';

export type Plan = Schemas['PlanResponse'];
export type Item = Schemas['ItemResponse'];
export interface PlanItems {
  plan: Plan;
  items: Item[];
}

const KEY = 'adal.plan-items';

export async function loadPlans(): Promise<Plan[]> {
  const r = await api.GET('/api/v1/plans', { params: { query: { limit: 200 } } });
  return r.data?.items ?? [];
}

export async function loadItems(planId: string): Promise<Item[]> {
  const r = await api.GET('/api/v1/plans/{id}/items', { params: { path: { id: planId }, query: { limit: 200 } } });
  return r.data?.items ?? [];
}

/** Every plan with its items, newest year first; the last answer serves offline. */
export function usePlanItems(): PlanItems[] {
  const [groups, setGroups] = useState<PlanItems[]>(() => remembered<PlanItems[]>(KEY) ?? []);
  useEffect(() => {
    void (async () => {
      try {
        const plans = (await loadPlans()).sort((a, b) => b.year - a.year);
        const all = await Promise.all(plans.map(async (plan) => ({ plan, items: await loadItems(plan.id) })));
        setGroups(all);
        remember(KEY, all);
      } catch {
        // Offline: keep what was remembered.
      }
    })();
  }, []);
  return groups;
}
