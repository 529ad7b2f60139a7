#!/usr/bin/env node
// The prepack check: a tarball of this package must carry the prebuilt binaries (prebuilds/ is not in git,
// so a pack from a fresh checkout would ship none and users without a compiler would get the 28× slower
// stock cpu backend). Refuses, in one line, unless prebuilds/ holds a linux-x64 glibc binary for every
// x86-64 level, each loading on glibc MAX_GLIBC (made by scripts/prebuild-old-glibc.sh, not on this
// machine's newer glibc), and SOURCES.sha256 matches the src/native about to be packed.
//
//   node scripts/check-prebuilds.mjs    # exit 1 with the reason, else exit 0 and say what ships
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_GLIBC, SOURCES_FILE, X64_LEVELS, compareVersions, glibcNeeded, prebuiltFile, sourcesHash } from './prebuilt.mjs';

const BUILD_COMMAND = 'pnpm --filter @efficientscale/backend-native build:prebuilds';

/** Why a tarball packed from pkgDir would lack working prebuilt binaries; '' when nothing is missing. */
export function prebuildsProblem(pkgDir) {
  const expected = X64_LEVELS.map((l) => prebuiltFile(l.level, 'linux', 'x64', 'glibc'));
  const missing = expected.filter((f) => !existsSync(join(pkgDir, f)));
  if (missing.length === expected.length) return `expected prebuilt binaries in prebuilds/linux-x64/, found none (run ${BUILD_COMMAND})`;
  if (missing.length > 0) return `expected a prebuilt binary for every x86-64 level, found none at ${missing.join(', ')} (run ${BUILD_COMMAND})`;
  for (const f of expected) {
    const glibc = glibcNeeded(join(pkgDir, f));
    if (glibc && compareVersions(glibc, MAX_GLIBC) > 0) return `expected prebuilt binaries that load on glibc ${MAX_GLIBC}, found ${f} needing glibc ${glibc} (run ${BUILD_COMMAND})`;
  }
  const stamp = join(pkgDir, SOURCES_FILE);
  if (!existsSync(stamp)) return `expected ${SOURCES_FILE} beside the prebuilt binaries, found none (run ${BUILD_COMMAND})`;
  if (readFileSync(stamp, 'utf8').trim() !== sourcesHash(pkgDir)) {
    return `expected prebuilt binaries compiled from this src/native, found ones from other sources (${SOURCES_FILE} differs; run ${BUILD_COMMAND})`;
  }
  return '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
  const problem = prebuildsProblem(pkgDir);
  if (problem) {
    process.stderr.write(`backend-native: refusing to pack: ${problem}\n`);
    process.exit(1);
  }
}
