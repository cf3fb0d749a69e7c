// S3 object tagging (PutObjectTagging, GetObjectTagging, DeleteObjectTagging). Tags are the one
// part of a version S3 lets change after the write, so they change through the store's cheap
// metadata update: the version's bytes, ETag and id stay as they are.
import { enterMutation, type LayerContext, lockNames, updateIndexed } from './context.ts';
import type { Objects } from './objects.ts';
import { fromMetadata, type Tags, toMetadata } from './records.ts';
import { assertTags, maximumObjectTags } from './validation.ts';

export interface TaggingTarget {
  bucket: string;
  key: string;
  versionId?: string;
}

export class ObjectTagging {
  readonly #context: LayerContext;
  readonly #objects: Objects;

  constructor(context: LayerContext, objects: Objects) {
    this.#context = context;
    this.#objects = objects;
  }

  /** The version's tags and its version id (for x-amz-version-id). */
  get(target: TaggingTarget): { tags: Tags; versionId: string } {
    const record = this.#objects.resolve(target).record;
    return { tags: structuredClone(record.tags), versionId: record.versionId };
  }

  /** Replaces the version's whole tag set; returns the version id it applied to. */
  async put(target: TaggingTarget, tags: Tags): Promise<{ versionId: string }> {
    assertTags(tags, maximumObjectTags);
    const releaseGates = await enterMutation(this.#context, target.bucket);
    try {
      return await this.#context.locks.run(lockNames.key(target.bucket, target.key), () =>
        this.#replaceTags(target, tags),
      );
    } finally {
      releaseGates();
    }
  }

  async #replaceTags(target: TaggingTarget, tags: Tags): Promise<{ versionId: string }> {
    {
      const indexed = this.#objects.resolve(target);
      const record = { ...indexed.record, tags: structuredClone(tags) };
      const address = { bucket: target.bucket, key: target.key, versionId: indexed.storeVersionId };
      await updateIndexed(
        this.#context,
        address,
        (old) => {
          const entry = fromMetadata(old);
          if (entry?.kind !== 'object-version')
            throw new Error(`store version ${target.key} holds no object record`);
          return {
            ...old,
            ...toMetadata({ kind: 'object-version', record: { ...entry.record, tags: record.tags } }),
          };
        },
        () => this.#context.index.updateVersionRecord(record),
      );
      return { versionId: record.versionId };
    }
  }

  async delete(target: TaggingTarget): Promise<{ versionId: string }> {
    return this.put(target, {});
  }
}
