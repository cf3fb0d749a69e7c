// `pulumi up` entry (Pulumi.yaml `main`): reads the `coffre:region` object of the selected stack's
// configuration file (stacks/config/Pulumi.<stack>.yaml) and runs the region program.
import * as pulumi from '@pulumi/pulumi';
import { regionProgram } from './program.ts';
import { regionConfigFromObject } from './region-validation.ts';

export default async function main() {
  const config = regionConfigFromObject(new pulumi.Config('coffre').requireObject('region'));
  return regionProgram(config);
}
