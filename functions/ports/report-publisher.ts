/**
 * Where run reports are published for people to read: in AWS the artifacts bucket, linked by
 * a presigned GET URL (no public bucket, the link expires with the approval request).
 *
 * Errors: `TransientError` for retryable storage faults.
 */
export interface ReportPublisher {
  /**
   * Stores `html` under `key` and returns a URL that serves it for `expiresInSeconds`
   * (at most 7 days, the presigned-URL limit).
   */
  publish(key: string, html: string, expiresInSeconds: number): Promise<string>;
}
