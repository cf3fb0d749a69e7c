// Placeholder replaced by the erasure-kernel build (see agent/erasure/README.md).
export async function buildNativeKernel(_options: { quiet: boolean }): Promise<void> {}
