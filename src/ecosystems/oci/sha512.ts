import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobInfo } from '../../core/blobstore.js';
import type { Digest, Sha512Digest } from '../../core/digest.js';
import type { AuditRow, MetadataTransaction } from '../../core/metadata.js';
import type { Store } from '../../core/store.js';

/**
 * The sha512 names of pushed content, as refs of the `oci` ecosystem under the name `sha512`:
 * ref the hex, value the sha256 the bytes are stored under. A name is written only after the
 * bytes were hashed both ways, so it is as good as the store's own address.
 */
const REF_NAME = 'sha512';

export async function sha512Names(store: Store): Promise<Map<Sha512Digest, Digest>> {
  return new Map((await store.meta.listRefs('oci', REF_NAME)).map((r) => [`sha512:${r.ref}` as Sha512Digest, r.value as Digest]));
}

/** Records, in the push's transaction, that `sha512` names the blob stored as `sha256`. */
export async function nameBySha512(tx: MetadataTransaction, sha512: Sha512Digest, sha256: Digest, because: AuditRow): Promise<void> {
  await tx.setRef('oci', REF_NAME, sha512.slice(7), sha256, because);
}

export function sha512Of(data: Uint8Array): Sha512Digest {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

/** An upload's sha256 (its store address), and its sha512 when asked, in one read. */
export async function hashUpload(source: Readable, withSha512: true): Promise<BlobInfo & { sha512: Sha512Digest }>;
export async function hashUpload(source: Readable, withSha512: false): Promise<BlobInfo>;
export async function hashUpload(source: Readable, withSha512: boolean): Promise<BlobInfo & { sha512?: Sha512Digest }> {
  const a = createHash('sha256');
  const b = withSha512 ? createHash('sha512') : undefined;
  let size = 0;
  for await (const c of source) {
    a.update(c as Buffer);
    b?.update(c as Buffer);
    size += (c as Buffer).length;
  }
  const blob: BlobInfo = { digest: `sha256:${a.digest('hex')}`, size };
  return b ? { ...blob, sha512: `sha512:${b.digest('hex')}` } : blob;
}
