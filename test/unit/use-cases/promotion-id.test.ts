import { describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../functions/core/orders/client-order-id.js';
import { promotionIdFor } from '../../../functions/core/use-cases/promotion-stage.js';

const KEY = { cohortId: 'coh-1', agentId: 'a-07', approvalId: null, sessionDate: '2013-10-08' };

describe('promotionIdFor', () => {
  it('gives the same id for the same candidate and session, whatever the execution', () => {
    expect(promotionIdFor(KEY)).toBe(promotionIdFor({ ...KEY }));
    expect(promotionIdFor(KEY)).toMatch(/^pr-20131008-[0-9a-f]{14}$/);
  });

  it('gives another id for another session, agent, cohort or approval', () => {
    const ids = new Set([
      promotionIdFor(KEY),
      promotionIdFor({ ...KEY, sessionDate: '2013-10-09' }),
      promotionIdFor({ ...KEY, agentId: 'a-08' }),
      promotionIdFor({ ...KEY, cohortId: 'coh-2' }),
      promotionIdFor({ ...KEY, approvalId: 'ap-1' }),
    ]);
    expect(ids.size).toBe(5);
  });

  it('is kept verbatim in client_order_ids (26 characters)', () => {
    const id = promotionIdFor(KEY);
    expect(id).toHaveLength(26);
    expect(clientOrderId({ promotionId: id, leg: 'entry', attempt: 1 })).toBe(`sgp_${id}_entry_1`);
  });
});
