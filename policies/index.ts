// The policy pack's entry, run by the Pulumi engine (`pulumi preview --policy-pack policies`):
// constructing the PolicyPack starts the policy server, so tests load pack.ts instead.
import { PolicyPack } from '@pulumi/policy';
import { coffrePolicies, POLICY_PACK_NAME } from './pack.ts';

new PolicyPack(POLICY_PACK_NAME, { policies: coffrePolicies });
