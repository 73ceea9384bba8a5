import { execFileSync } from 'node:child_process';
import { PromotionError } from './errors.js';

/**
 * The few git operations promotion needs, run through the `git` executable (the repository's own
 * configuration, hooks and identity apply). Synchronous: promotion and loading are one-off steps,
 * never on a hot path. Every failure is a PromotionError GIT_FAILED carrying git's own message.
 */

const MAX_BUFFER = 1 << 30;

export function git(repo: string, args: readonly string[], input?: string | Uint8Array): string {
  return gitBuffer(repo, args, input).toString('utf8');
}

export function gitBuffer(repo: string, args: readonly string[], input?: string | Uint8Array): Buffer {
  try {
    return execFileSync('git', args, { cwd: repo, input, maxBuffer: MAX_BUFFER, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const detail = err.stderr?.toString('utf8').trim() || err.message;
    throw new PromotionError('GIT_FAILED', `git ${args.join(' ')} (in ${repo}): ${detail}`, { cause: e });
  }
}

/** The top folder of the work tree containing `dir` */
export function repoRoot(dir: string): string {
  return git(dir, ['rev-parse', '--show-toplevel']).trim();
}

/** Uncommitted changes, untracked files included (ignored files are not changes), as `XY path` lines */
export function uncommittedChanges(repo: string): string[] {
  const out = git(repo, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  const entries = out.split('\0').filter((e) => e !== '');
  const lines: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    lines.push(e);
    // a rename or copy is followed by its source path
    if (e[0] === 'R' || e[0] === 'C') i++;
  }
  return lines;
}

export function headCommit(repo: string): string {
  return git(repo, ['rev-parse', '--verify', 'HEAD^{commit}']).trim();
}

/** The commit a tag points to, or undefined when there is no such tag */
export function tagCommit(repo: string, tag: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The message of an annotated tag; undefined for a lightweight tag (which carries no record) */
export function annotatedTagMessage(repo: string, tag: string): string | undefined {
  const type = git(repo, ['cat-file', '-t', `refs/tags/${tag}`]).trim();
  if (type !== 'tag') return undefined;
  const raw = git(repo, ['cat-file', 'tag', `refs/tags/${tag}`]);
  const blank = raw.indexOf('\n\n');
  return blank < 0 ? '' : raw.slice(blank + 2);
}

/** Creates the annotated tag `tag` on `commit` with `message` kept verbatim */
export function createAnnotatedTag(repo: string, tag: string, commit: string, message: string): void {
  git(repo, ['tag', '--annotate', '--cleanup=verbatim', '--file=-', tag, commit], message);
}

export function deleteTag(repo: string, tag: string): void {
  git(repo, ['tag', '--delete', tag]);
}

/** Tag names under `refs/tags/<prefix>` */
export function listTags(repo: string, prefix: string): string[] {
  return git(repo, ['for-each-ref', '--format=%(refname:strip=2)', `refs/tags/${prefix}`])
    .split('\n')
    .filter((l) => l !== '');
}

export interface TreeFile {
  /** Repository-relative posix path */
  path: string;
  content: Buffer;
}

/**
 * The files of `commit` under `paths` (folders or files, repository-relative), read from git's
 * objects (not the work tree): exactly what the commit holds. Symlinks and submodules are refused:
 * their content would not be part of the commit.
 */
export function readTreeFiles(repo: string, commit: string, paths: readonly string[]): TreeFile[] {
  const listing = git(repo, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths]);
  const entries: { path: string; oid: string }[] = [];
  for (const line of listing.split('\0')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const [mode, type, oid] = line.slice(0, tab).split(' ');
    const path = line.slice(tab + 1);
    if (type !== 'blob' || mode === '120000') {
      throw new PromotionError('GIT_FAILED', `${path} in ${commit.slice(0, 12)} is a ${mode === '120000' ? 'symbolic link' : type}; strategy modules and lib/ must hold plain files`);
    }
    entries.push({ path, oid: oid! });
  }
  if (entries.length === 0) return [];
  const out = gitBuffer(repo, ['cat-file', '--batch'], `${entries.map((e) => e.oid).join('\n')}\n`);
  const files: TreeFile[] = [];
  let pos = 0;
  for (const entry of entries) {
    const eol = out.indexOf(0x0a, pos);
    const header = out.subarray(pos, eol).toString('utf8').split(' ');
    if (header[0] !== entry.oid || header[1] !== 'blob') throw new PromotionError('GIT_FAILED', `git cat-file answered '${header.join(' ')}' for ${entry.path} (${entry.oid})`);
    const size = Number(header[2]);
    files.push({ path: entry.path, content: Buffer.from(out.subarray(eol + 1, eol + 1 + size)) });
    pos = eol + 1 + size + 1;
  }
  return files;
}
