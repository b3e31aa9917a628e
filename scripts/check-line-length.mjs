// Lists lines longer than biome.json's formatter.lineWidth in the files Biome checks. Biome's formatter wraps
// code but cannot break string literals, template literals or comments, so those can outgrow the width unnoticed.
// Usage: node scripts/check-line-length.mjs  (exits 1 and prints `path:line: N characters` for each long line)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The languages Biome formats or lints (https://biomejs.dev/internals/language-support/); other files under the
// included folders (a Python peer, say) are not Biome's to judge.
const biomeExtensions = /\.(?:[cm]?[jt]sx?|jsonc?|css|graphql|gql)$/;

/** A biome.json `files.includes` glob as a RegExp over slash-separated paths: `**` spans folders, `*` and `?` do not. */
function globToRegExp(glob) {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Each path a pattern can match for `path`: the file itself and every folder above it, since `!src/codec` excludes a folder's contents. */
function selfAndAncestors(path) {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Biome's reading of `files.includes`: patterns apply in order, a later `!pattern` excluding what an earlier one included. */
function isIncluded(path, patterns) {
  const candidates = selfAndAncestors(path);
  let included = false;
  for (const { negated, regExp } of patterns) {
    if (candidates.some((candidate) => regExp.test(candidate))) included = !negated;
  }
  return included;
}

const biomeConfig = JSON.parse(readFileSync('biome.json', 'utf8'));
const maxColumns = biomeConfig.formatter?.lineWidth ?? 80;
const patterns = (biomeConfig.files?.includes ?? ['**']).map((pattern) => {
  const negated = pattern.startsWith('!');
  return { negated, regExp: globToRegExp(negated ? pattern.slice(1) : pattern) };
});

// `git ls-files` lists tracked and untracked-but-not-ignored files, which is what Biome sees with useIgnoreFile.
const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' });
const files = [...new Set(listed.split('\0'))].filter((path) => path && biomeExtensions.test(path) && isIncluded(path, patterns)).sort();

const longLines = [];
for (const path of files) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    continue; // listed by git but deleted in the working tree
  }
  text.split(/\r?\n/).forEach((line, index) => {
    // Code points, not UTF-16 units, so that a line with non-BMP characters is measured as Biome measures it.
    const columns = [...line].length;
    if (columns > maxColumns) longLines.push(`${path}:${index + 1}: ${columns} characters`);
  });
}

if (longLines.length > 0) {
  console.error(longLines.join('\n'));
  console.error(`${longLines.length} line(s) longer than ${maxColumns} characters (biome.json formatter.lineWidth); wrap them by hand`);
  process.exit(1);
}
