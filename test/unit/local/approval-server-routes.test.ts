/**
 * The local approval server routes like the deployed HTTP API (`ANY /approvals/{approvalId}`,
 * lib/constructs/day3-go-no-go.ts): every method of the page path reaches the approval
 * handler, which refuses what it does not serve with 405 and an audit record
 * (test/integration/day3/approval-endpoints.test.ts); nothing is answered by the server itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVAL_PAGE_ROUTE_KEY,
  type HttpResponse,
} from '../../../functions/adapters/http/api-gateway.js';
import { type ApprovalServer, startApprovalServer } from '../../../local/approval-server.js';

const seen: { routeKey: string; method: string; approvalId: string }[] = [];
let server: ApprovalServer;

beforeAll(async () => {
  server = await startApprovalServer({
    approver: 'local:alice',
    handlers: {
      approval: async (event) => {
        const e = event as {
          routeKey: string;
          pathParameters: { approvalId: string };
          requestContext: { http: { method: string } };
        };
        seen.push({
          routeKey: e.routeKey,
          method: e.requestContext.http.method,
          approvalId: e.pathParameters.approvalId,
        });
        return { statusCode: 405, headers: { allow: 'GET, HEAD, POST' }, body: '' } as HttpResponse;
      },
      slack: async () => ({ statusCode: 500, headers: {}, body: '' }),
    },
  });
});

afterAll(async () => {
  await server?.close();
});

describe('local approval server routes', () => {
  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST'])(
    '%s /approvals/{id} reaches the approval handler under the AWS route key',
    async (method) => {
      // Prepare
      seen.length = 0;
      // Act
      const res = await fetch(`${server.url}/approvals/apr-1`, { method });
      await res.arrayBuffer();
      // Assess
      expect(res.status).toBe(405);
      expect(seen).toEqual([{ routeKey: APPROVAL_PAGE_ROUTE_KEY, method, approvalId: 'apr-1' }]);
    },
  );
});
