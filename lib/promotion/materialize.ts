import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { digestDirectory, isModuleExcluded, treeHash, type FileDigest } from './content-hash.js';
import { PromotionError } from './errors.js';
import { annotatedTagMessage, listTags, readTreeFiles, tagCommit } from './git.js';
import { parseStrategyTag, parseTagMessage, strategyTag, type ReleaseRecord } from './release-record.js';
import { compareSemver } from './semver.js';

/** Default cache of materialized releases: outside any working tree, shared by the runs of this user */
export function defaultStrategyCache(): string {
  return join(homedir(), '.cache', 'monger', 'strategies');
}

export interface MaterializedRelease {
  /** The cache folder: lib/, strategies/<name>/, package.json and a node_modules link */
  dir: string;
  /** The module's entry file inside it */
  moduleFile: string;
  record: ReleaseRecord;
  commit: string;
  /** True when this call wrote the folder (false: an earlier materialization, verified again) */
  fresh: boolean;
}

/** Promoted versions of a strategy (from its tags), oldest first */
export function promotedVersions(repo: string, name: string): string[] {
  return listTags(repo, `strategy/${name}/`)
    .map((t) => parseStrategyTag(t))
    .filter((p): p is { name: string; version: string } => p !== undefined && p.name === name)
    .map((p) => p.version)
    .sort(compareSemver);
}

/** The release record a tag carries, checked against the commit the tag points to */
export function readRelease(repo: string, name: string, version: string): { record: ReleaseRecord; commit: string } {
  const tag = strategyTag(name, version);
  const commit = tagCommit(repo, tag);
  if (commit === undefined) {
    const known = promotedVersions(repo, name);
    throw new PromotionError('STRATEGY_NOT_PROMOTED', `${name} ${version} was never promoted: no tag ${tag} (promoted versions of ${name}: ${known.join(', ') || 'none'}); promote it with monger promote ${name} --version ${version}`);
  }
  const message = annotatedTagMessage(repo, tag);
  if (message === undefined) throw new PromotionError('STRATEGY_NOT_PROMOTED', `${tag} is a lightweight tag without a promotion record; it was not made by monger promote`);
  const record = parseTagMessage(message, tag);
  if (record.name !== name || record.version !== version) throw new PromotionError('STRATEGY_HASH_MISMATCH', `${tag} carries the record of ${record.name} ${record.version}`);
  if (record.git.commit !== commit) {
    throw new PromotionError('STRATEGY_HASH_MISMATCH', `${tag} points to ${commit.slice(0, 12)} but ${name} ${version} was promoted at ${record.git.commit.slice(0, 12)}: the tag was moved; refusing to run it`);
  }
  return { record, commit };
}

/**
 * Writes the promoted commit's lib/, strategies/<name>/ and package.json from git's objects into
 * `<cache>/<name>/<version>-<commit>/` (once; written to a temporary folder and renamed, so a
 * crash or a concurrent runner never leaves half a release), links node_modules to the
 * repository's, and verifies what is there against the tag's record on EVERY call: the module's
 * content hash, lib/'s hash and each artifact's sha256. A changed, added or removed file refuses
 * the load. Relative imports of the module resolve inside the folder, i.e. against the tagged lib/.
 */
export function materializeRelease(repo: string, name: string, version: string, cacheDir: string = defaultStrategyCache()): MaterializedRelease {
  const { record, commit } = readRelease(repo, name, version);
  checkWorkingTreeRecord(repo, record);
  const dir = join(cacheDir, name, `${version}-${commit.slice(0, 12)}`);
  let fresh = false;
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    rmSync(tmp, { recursive: true, force: true });
    writeCommitFiles(repo, commit, name, tmp);
    try {
      renameSync(tmp, dir);
      fresh = true;
    } catch (e) {
      // another process materialized it first: keep theirs (verified below like any other)
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw e;
    }
  }
  linkNodeModules(dir, repo);
  verifyMaterialized(dir, record);
  return { dir, moduleFile: join(dir, 'strategies', name, 'index.ts'), record, commit, fresh };
}

/** Checks a materialized folder against its record; throws STRATEGY_HASH_MISMATCH naming the files. */
export function verifyMaterialized(dir: string, record: ReleaseRecord): void {
  const moduleDir = join(dir, 'strategies', record.name);
  const module = existsSync(moduleDir) ? digestDirectory(moduleDir, isModuleExcluded) : [];
  const problems: string[] = [];
  if (treeHash(module) !== record.code.contentHash) problems.push(`strategies/${record.name}/ hashes to ${treeHash(module).slice(0, 12)}, promoted ${record.code.contentHash.slice(0, 12)}: ${diffFiles(module, record.code.files)}`);
  for (const a of record.artifacts) {
    const f = module.find((x) => x.path === a.path);
    if (f === undefined || f.sha256 !== a.sha256) problems.push(`artifact ${a.path}: ${f === undefined ? 'missing' : `sha256 ${f.sha256.slice(0, 12)}, promoted ${a.sha256.slice(0, 12)}`}`);
  }
  const lib = existsSync(join(dir, 'lib')) ? digestDirectory(join(dir, 'lib')) : [];
  if (treeHash(lib) !== record.code.lib) problems.push(`lib/ hashes to ${treeHash(lib).slice(0, 12)}, promoted ${record.code.lib.slice(0, 12)} (${lib.length} files, promoted ${record.code.libFiles})`);
  if (problems.length > 0) {
    throw new PromotionError(
      'STRATEGY_HASH_MISMATCH',
      `${record.name} ${record.version} in ${dir} is not what was promoted:\n${problems.map((p) => `  - ${p}`).join('\n')}\ndelete ${dir} to materialize it again from ${record.tag}`,
    );
  }
}

function diffFiles(actual: readonly FileDigest[], promoted: readonly FileDigest[]): string {
  const a = new Map(actual.map((f) => [f.path, f.sha256]));
  const p = new Map(promoted.map((f) => [f.path, f.sha256]));
  const out: string[] = [];
  for (const [path, sha] of a) if (!p.has(path)) out.push(`${path} added`);
  else if (p.get(path) !== sha) out.push(`${path} changed`);
  for (const path of p.keys()) if (!a.has(path)) out.push(`${path} missing`);
  return out.join(', ') || 'same files, different hash';
}

/** A committed strategies/<name>/releases/X.Y.Z.json must agree with the tag it was written with */
function checkWorkingTreeRecord(repo: string, record: ReleaseRecord): void {
  const file = join(repo, 'strategies', record.name, 'releases', `${record.version}.json`);
  if (!existsSync(file)) return;
  let local: Partial<ReleaseRecord>;
  try {
    local = JSON.parse(readFileSync(file, 'utf8')) as Partial<ReleaseRecord>;
  } catch (e) {
    throw new PromotionError('STRATEGY_HASH_MISMATCH', `${file} is not valid JSON (${(e as Error).message})`);
  }
  if (local.git?.commit !== record.git.commit || local.code?.contentHash !== record.code.contentHash) {
    throw new PromotionError('STRATEGY_HASH_MISMATCH', `${file} (commit ${local.git?.commit?.slice(0, 12)}, content ${local.code?.contentHash?.slice(0, 12)}) disagrees with ${record.tag} (commit ${record.git.commit.slice(0, 12)}, content ${record.code.contentHash.slice(0, 12)})`);
  }
}

/** Writes lib/, strategies/<name>/ and package.json of `commit` (from git's objects) under `dir` */
export function writeCommitFiles(repo: string, commit: string, name: string, dir: string): void {
  for (const f of readTreeFiles(repo, commit, ['lib', `strategies/${name}`, 'package.json'])) {
    const target = join(dir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
}

/** `<dir>/node_modules` -> the repository's, so bare imports (zod) resolve from the copy */
export function linkNodeModules(dir: string, repo: string): void {
  const target = join(repo, 'node_modules');
  const link = join(dir, 'node_modules');
  let current: string | undefined;
  try {
    current = readlinkSync(link);
  } catch {
    current = undefined;
  }
  if (current === target) return;
  if (current !== undefined) unlinkSync(link);
  try {
    symlinkSync(target, link, 'dir');
  } catch (e) {
    // a concurrent load linked it the same way
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}
