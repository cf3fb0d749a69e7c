// `npm run bench s3`: the S3 load generator of bench/s3-load.ts under its suite name.
export { run } from './s3-load.ts';
