// Deploying a region from code: the operator calls this when a `Region` resource changes. The
// RegionDeployer interface keeps the operator testable without the Pulumi CLI; PulumiRegionDeployer
// runs the same program as `pulumi up` through the Automation API (LocalWorkspace, inline program).
import { fileURLToPath } from 'node:url';
import { LocalWorkspace, type OutputMap, PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { regionProgram } from './program.ts';
import type { RegionOutputs } from './region.ts';
import type { RegionConfig } from './region-config.ts';
import { assertValidRegionConfig } from './region-validation.ts';

export interface RegionPreview {
  /** Planned operations by kind (`create`, `update`, `same`, `delete`...), as Pulumi counts them. */
  changes: Record<string, number>;
}

export interface RegionDeployer {
  /** Creates or updates the region's resources and returns its outputs. */
  up(config: RegionConfig): Promise<RegionOutputs>;
  /** Plans the change, with the policy pack, without touching anything. */
  preview(config: RegionConfig): Promise<RegionPreview>;
}

export type RegionDeployErrorCode =
  | 'PulumiCliUnavailable'
  | 'PreviewFailed'
  | 'UpFailed'
  | 'UnexpectedOutputs';

export class RegionDeployError extends Error {
  readonly code: RegionDeployErrorCode;
  constructor(code: RegionDeployErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegionDeployError';
    this.code = code;
  }
}

/**
 * What the operator does when a Region changes: refuse an invalid region before Pulumi is called,
 * preview it (the policy pack runs there), then apply it.
 */
export async function deployRegion(deployer: RegionDeployer, config: RegionConfig): Promise<RegionOutputs> {
  assertValidRegionConfig(config);
  await deployer.preview(config);
  return deployer.up(config);
}

const requiredOutputs = ['region', 'hosts', 's3Endpoint', 'replicaSets', 'vrackServiceName'] as const;

/** The stack's outputs as RegionOutputs; a missing key means the stack ran another program. */
export function regionOutputsFromStack(outputs: OutputMap): RegionOutputs {
  const missing = requiredOutputs.filter((key) => outputs[key] === undefined);
  if (missing.length > 0) {
    throw new RegionDeployError('UnexpectedOutputs', `the stack has no output ${missing.join(', ')}`);
  }
  if (!Array.isArray(outputs.hosts.value) || !Array.isArray(outputs.replicaSets.value)) {
    throw new RegionDeployError('UnexpectedOutputs', 'hosts and replicaSets must be lists');
  }
  return {
    region: String(outputs.region.value),
    hosts: outputs.hosts.value,
    s3Endpoint: String(outputs.s3Endpoint.value),
    replicaSets: outputs.replicaSets.value,
    vrackServiceName: String(outputs.vrackServiceName.value),
  };
}

export interface PulumiRegionDeployerOptions {
  /** The Pulumi project name; `coffre`, as in Pulumi.yaml. */
  projectName?: string;
  /**
   * Environment of the deployment: the OVHcloud credentials (OVH_ENDPOINT, OVH_APPLICATION_KEY,
   * OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY) and the state backend (PULUMI_BACKEND_URL,
   * PULUMI_CONFIG_PASSPHRASE or PULUMI_ACCESS_TOKEN).
   */
  environment: Record<string, string>;
  /** Where the Pulumi CLI is installed (`<root>/bin/pulumi`); the PATH when absent. */
  cliRoot?: string;
  /** The policy pack run at preview; the repository's `policies/` by default. */
  policyPackDirectory?: string;
  onOutput?: (text: string) => void;
}

export const defaultPolicyPackDirectory = fileURLToPath(new URL('../policies', import.meta.url));

export class PulumiRegionDeployer implements RegionDeployer {
  readonly #options: PulumiRegionDeployerOptions;

  constructor(options: PulumiRegionDeployerOptions) {
    this.#options = options;
  }

  async #stack(config: RegionConfig) {
    let pulumiCommand: PulumiCommand;
    try {
      pulumiCommand = await PulumiCommand.get({ root: this.#options.cliRoot });
    } catch (error) {
      throw new RegionDeployError('PulumiCliUnavailable', `the Pulumi CLI cannot be run: ${String(error)}`, {
        cause: error,
      });
    }
    return LocalWorkspace.createOrSelectStack(
      {
        stackName: config.name,
        projectName: this.#options.projectName ?? 'coffre',
        program: async () => regionProgram(config),
      },
      { pulumiCommand, envVars: this.#options.environment },
    );
  }

  async preview(config: RegionConfig): Promise<RegionPreview> {
    const stack = await this.#stack(config);
    try {
      const result = await stack.preview({
        policyPacks: [this.#options.policyPackDirectory ?? defaultPolicyPackDirectory],
        onOutput: this.#options.onOutput,
      });
      return { changes: { ...result.changeSummary } };
    } catch (error) {
      throw new RegionDeployError(
        'PreviewFailed',
        `preview of region ${config.name} failed: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async up(config: RegionConfig): Promise<RegionOutputs> {
    const stack = await this.#stack(config);
    let outputs: OutputMap;
    try {
      const result = await stack.up({
        policyPacks: [this.#options.policyPackDirectory ?? defaultPolicyPackDirectory],
        onOutput: this.#options.onOutput,
      });
      outputs = result.outputs;
    } catch (error) {
      throw new RegionDeployError('UpFailed', `update of region ${config.name} failed: ${String(error)}`, {
        cause: error,
      });
    }
    return regionOutputsFromStack(outputs);
  }
}
