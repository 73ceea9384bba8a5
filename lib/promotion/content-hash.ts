import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Content hashes of a set of files, independent of where they sit on disk, of timestamps and of
 * file modes: sha256 over the sorted lines `<relative posix path> NUL <sha256 of the bytes> LF`.
 * Promotion computes it from the git objects of the promoted commit, loading from the files
 * materialized from the tag: any byte added, removed, renamed or changed changes the hash.
 */

export interface FileDigest {
  /** Posix path relative to the hashed root */
  path: string;
  sha256: string;
  bytes: number;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestFiles(files: readonly { path: string; content: Uint8Array }[]): FileDigest[] {
  return files.map((f) => ({ path: f.path, sha256: sha256(f.content), bytes: f.content.byteLength })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The hash of a file list (see the module comment); order-independent. */
export function treeHash(digests: readonly FileDigest[]): string {
  const sorted = [...digests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash('sha256');
  for (const d of sorted) h.update(`${d.path}\0${d.sha256}\n`);
  return h.digest('hex');
}

/**
 * Every regular file under `root` (recursively) with its digest, paths relative to `root`.
 * `exclude(relativePath)` skips a file or a whole folder (its path without trailing slash).
 */
export function digestDirectory(root: string, exclude: (relativePath: string) => boolean = () => false): FileDigest[] {
  const out: FileDigest[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (exclude(rel)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full, rel);
      else {
        // symlinks and other special files are hashed by what they point to, like a plain read would load it
        const content = readFileSync(full);
        out.push({ path: rel, sha256: sha256(content), bytes: content.byteLength });
      }
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What a strategy module's content hash leaves out: promotion records written after the hash was taken */
export function isModuleExcluded(relativePath: string): boolean {
  return relativePath === 'releases' || relativePath.startsWith('releases/');
}
