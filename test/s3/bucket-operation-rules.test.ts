// The pure rules under the bucket operations: the listing URL encoding, the LocationConstraint check
// and the CORS rule matching, table-driven.
import test from 'ava';
import type { CorsRule } from '../../agent/objects/records.ts';
import { S3Error } from '../../agent/s3/errors.ts';
import { urlEncodeListingText } from '../../agent/s3/operations/bucket-common.ts';
import {
  corsResponseHeaders,
  matchCorsRule,
  parseRequestedHeaders,
} from '../../agent/s3/operations/cors-rules.ts';
import { checkLocationConstraint } from '../../agent/s3/operations/create-bucket.ts';

test('listing url encoding: unreserved characters and "/" stay, a space is "+", everything else is %XX of its UTF-8 bytes', (t) => {
  const cases: [string, string][] = [
    ['plain/key-1_2.3~', 'plain/key-1_2.3~'],
    ['a b', 'a+b'],
    ['a+b', 'a%2Bb'],
    ['été', '%C3%A9t%C3%A9'],
    ['日本', '%E6%97%A5%E6%9C%AC'],
    ['100%', '100%25'],
    ['q?x=1&y', 'q%3Fx%3D1%26y'],
    ['tab\there', 'tab%09here'],
  ];
  for (const [text, encoded] of cases) {
    t.is(urlEncodeListingText(text), encoded, text);
    // What botocore does to decode it (unquote_plus) gives the key back.
    t.is(decodeURIComponent(encoded.replaceAll('+', ' ')), text);
  }
});

test('LocationConstraint: absent or the agent region passes; another region is IllegalLocationConstraintException; a non-region is InvalidLocationConstraint', (t) => {
  t.notThrows(() => checkLocationConstraint(undefined, 'fr-par'));
  t.notThrows(() => checkLocationConstraint('fr-par', 'fr-par'));
  for (const [constraint, code] of [
    ['eu-west-3', 'IllegalLocationConstraintException'],
    ['us-east-1', 'IllegalLocationConstraintException'],
    ['EU', 'IllegalLocationConstraintException'],
    ['fr-north', 'IllegalLocationConstraintException'],
    ['Paris', 'InvalidLocationConstraint'],
    ['fr_par', 'InvalidLocationConstraint'],
  ] as const) {
    const error = t.throws(() => checkLocationConstraint(constraint, 'fr-par'), { instanceOf: S3Error });
    t.is(error?.code, code, constraint);
    t.is(error?.status, 400);
  }
});

const rules: CorsRule[] = [
  {
    allowedOrigins: ['https://*.example.fr'],
    allowedMethods: ['GET', 'PUT'],
    allowedHeaders: ['Content-*', 'x-amz-meta-owner'],
    exposeHeaders: ['ETag'],
    maxAgeSeconds: 300,
  },
  { allowedOrigins: ['*'], allowedMethods: ['GET'] },
];

test('CORS matching: the first rule allowing origin, method and every requested header wins', (t) => {
  const cases: [string, string, string | undefined, number | undefined][] = [
    ['https://app.example.fr', 'PUT', 'content-type, X-Amz-Meta-Owner', 0],
    ['https://app.example.fr', 'GET', undefined, 0],
    ['https://app.example.fr', 'GET', 'authorization', undefined],
    ['https://other.example', 'GET', undefined, 1],
    ['https://other.example', 'PUT', undefined, undefined],
    ['https://app.example.fr', 'DELETE', undefined, undefined],
    ['http://app.example.fr', 'GET', 'content-length', undefined],
  ];
  for (const [origin, method, requested, expected] of cases) {
    const rule = matchCorsRule(rules, { origin, method, requestedHeaders: parseRequestedHeaders(requested) });
    t.is(rule === undefined ? undefined : rules.indexOf(rule), expected, `${origin} ${method} ${requested}`);
  }
});

test('CORS answer: a named origin is echoed with credentials; a "*" rule answers "*" without them', (t) => {
  const named = corsResponseHeaders(rules[0], {
    origin: 'https://app.example.fr',
    method: 'PUT',
    requestedHeaders: ['content-type'],
  });
  t.like(named, {
    'Access-Control-Allow-Origin': 'https://app.example.fr',
    'Access-Control-Allow-Methods': 'GET, PUT',
    'Access-Control-Allow-Headers': 'content-type',
    'Access-Control-Expose-Headers': 'ETag',
    'Access-Control-Max-Age': 300,
    'Access-Control-Allow-Credentials': 'true',
  });
  const any = corsResponseHeaders(rules[1], {
    origin: 'https://x.example',
    method: 'GET',
    requestedHeaders: [],
  });
  t.is(any['Access-Control-Allow-Origin'], '*');
  t.is(any['Access-Control-Allow-Credentials'], undefined);
  t.is(any['Access-Control-Allow-Headers'], undefined);
});
