// The policy pack's entry, run by the Pulumi engine (`pulumi preview --policy-pack policies`):
// constructing the PolicyPack starts the policy server, so tests load pack.ts instead. Plain
// JavaScript on purpose: Pulumi's policy runner registers ts-node for `.ts` entries, whose compiler
// options refuse the `.ts` import paths of this repository; from a `.js` ES module, Node.js 24 loads
// the TypeScript modules itself, by type stripping, as everywhere else in Coffre.
import { PolicyPack } from '@pulumi/policy';
import { coffrePolicies, POLICY_PACK_NAME } from './pack.ts';

new PolicyPack(POLICY_PACK_NAME, { policies: coffrePolicies });
