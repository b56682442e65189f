// A PATH as on a machine with only Node.js: every program of the system's bin folders except
// compilers and build tools (gcc, g++, cc, c++, clang, make, cmake, ninja, the assembler and the
// linker, cross tools), with `node` being the node that runs the tests. npm and the scripts it
// runs find no compiler on it, exactly as on such a machine; what they find is the system's
// shell and core utilities, which every machine has.
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const SYSTEM_BIN = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
const BUILD_TOOL = /^(g\+\+|gcc|c\+\+|cc|cpp|c89|c99|clang|clang\+\+|clang-cpp|make|gmake|cmake|ninja|ccache|as|ld|ld\.\w+|gold)(-[0-9.]+)?$|gcc|g\+\+|-linux-gnu-/;

/** Fills `dir` with links to the system's programs but the build tools; returns the PATH value. */
export function barePath(dir: string): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node'));
  for (const from of SYSTEM_BIN) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (BUILD_TOOL.test(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

/** The test's environment without what would leak the build tools or the running npm's settings in. */
export function bareEnv(path: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NODE_TEST_CONTEXT$|CC$|CXX$|MAKE$|CMAKE_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, PATH: path, ...extra };
}
