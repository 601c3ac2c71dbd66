/**
 * The operator console's pages in AWS (issue 14, docs/deploy.md "Operator console"): a private
 * S3 bucket (no public access, TLS only, read by CloudFront through origin access control)
 * behind a CloudFront distribution that also routes `/api/*` to the console HTTP API, so the
 * pages and the API share one origin (`https://<distribution>/` and `https://<distribution>/api/`,
 * the same paths as the local console server).
 *
 * - Pages: no caching (a publish is visible at once), HTTPS only, the same security headers
 *   as the local server (CSP allowing `connect-src` only to itself and the Cognito sign-in
 *   domain, no framing, no referrer) plus HSTS.
 * - `/api/*`: every method the API answers, forwarded uncached with all viewer headers but
 *   Host. CloudFront forwards `Authorization` on a GET only when it is part of a cache key, so
 *   the API behaviour's cache policy keys on it while the API answers `cache-control: no-store`
 *   (nothing is stored: minimum TTL 0).
 *
 * The bucket's objects are put by `stagegate publish-console` (lib/console-publish.ts)
 * after `cdk deploy`, with the sign-in settings in `console-config.json`.
 */
import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import type { ResourceNames } from '../config/naming.js';
import { CONSOLE_OUTPUTS } from '../console-files.js';
import { acknowledgeNag } from './nag.js';

export interface ConsoleHostingProps {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  /** The console HTTP API (`/api/{proxy+}`), routed at `/api/*` of the distribution. */
  readonly api: apigwv2.IHttpApi;
  /** The Cognito sign-in base URL (`https://<prefix>.auth.<region>.amazoncognito.com`). */
  readonly signInUrl: string;
}

export class ConsoleHosting extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>/`: the console's URL and the OAuth redirect URI. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const { config, names } = props;
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.bucket = this.pagesBucket(names, removalPolicy);
    const headers = this.pageHeaders(names, props.signInUrl);
    const apiCache = this.apiCachePolicy(names);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `stagegate ${config.stage} operator console`,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new origins.HttpOrigin(
            `${props.api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
            { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY },
          ),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: apiCache,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    this.acknowledgeNag();

    const output = (logicalId: string, value: string, description: string) => {
      new CfnOutput(this, logicalId, { value, description }).overrideLogicalId(logicalId);
    };
    output(CONSOLE_OUTPUTS.url, this.url, 'The operator console (sign in with Cognito)');
    output(
      CONSOLE_OUTPUTS.bucket,
      this.bucket.bucketName,
      'Bucket of the console pages (stagegate publish-console)',
    );
  }

  /** The private pages bucket (TLS only, server access logs to the stage's access-logs bucket). */
  private pagesBucket(names: ResourceNames, removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Pages', {
      bucketName: names.consolePagesBucket,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: s3.Bucket.fromBucketName(
        this,
        'AccessLogs',
        names.bucket('access-logs'),
      ),
      serverAccessLogsPrefix: 'console-pages/',
      removalPolicy,
    });
    Annotations.of(bucket).acknowledgeWarning(
      '@aws-cdk/aws-s3:accessLogsPolicyNotAdded',
      'The stateful stack grants log delivery from this bucket by name (ConsolePagesServerAccessLogs).',
    );
    return bucket;
  }

  /** The pages' security headers: the local server's CSP (plus the sign-in domain) and HSTS. */
  private pageHeaders(names: ResourceNames, signInUrl: string): cloudfront.ResponseHeadersPolicy {
    return new cloudfront.ResponseHeadersPolicy(this, 'PageHeaders', {
      responseHeadersPolicyName: `${names.prefix}-console-pages`,
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self' 'unsafe-inline'",
            `connect-src 'self' ${signInUrl}`,
            "frame-ancestors 'none'",
            "form-action 'self'",
          ].join('; '),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
  }

  private apiCachePolicy(names: ResourceNames): cloudfront.CachePolicy {
    // Authorization must be in the cache key to reach the API on a GET; the API's answers are
    // all `no-store`, so with a minimum TTL of 0 nothing is cached.
    return new cloudfront.CachePolicy(this, 'ApiCache', {
      cachePolicyName: `${names.prefix}-console-api`,
      comment: 'stagegate console API: forwards Authorization, caches nothing (no-store)',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization'),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });
  }

  private acknowledgeNag(): void {
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR1',
      'The console is for a desk whose operators may travel; every request is authenticated by Cognito (MFA) and the API is throttled, so no geo restriction is set.',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR2',
      'No WAF web ACL: the pages are static, every /api request needs a Cognito JWT (MFA, threat protection on the pool) and the API stage is throttled (20 rps, burst 40).',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR3',
      'The shared access-logs bucket enforces bucket-owner object ownership (no ACLs), which legacy CloudFront logging needs; every /api request is in the API access log and every page read in the pages bucket server access log.',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR4',
      'The distribution uses the default *.cloudfront.net certificate (no custom domain is configured), for which CloudFront fixes the minimum viewer TLS policy.',
    );
  }
}
