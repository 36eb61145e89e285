/**
 * Compiles a file-name glob into a RegExp matched against a bare file name (the directory tailer is not
 * recursive, so there is no `/` to care about): `*` any run of characters, `?` one character, `[abc]`,
 * `[a-z]` and `[!abc]` a character class, `{a,b}` alternatives, `\x` a literal `x`. A leading `.` must be
 * matched literally, as in shells: `*` does not match `.hidden`.
 * @throws {TypeError} for an empty pattern, an unclosed `[` or `{`, or a class such as `[z-a]`.
 */
export function compileGlob(glob: string): RegExp {
  if (typeof glob !== 'string' || glob === '') {
    throw new TypeError(`Expected a glob to be a non-empty string, got ${JSON.stringify(glob)}`);
  }
  let source = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '\\' && i + 1 < glob.length) {
      i += 1;
      source += escapeRegExp(glob[i]!);
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new TypeError(`Unclosed \`[\` in glob ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (char === '{') {
      depth += 1;
      source += '(?:';
    } else if (char === '}' && depth > 0) {
      depth -= 1;
      source += ')';
    } else if (char === ',' && depth > 0) {
      source += '|';
    } else {
      source += escapeRegExp(char);
    }
  }
  if (depth > 0) throw new TypeError(`Unclosed \`{\` in glob ${JSON.stringify(glob)}`);
  const hiddenGuard = glob.startsWith('.') ? '' : '(?!\\.)';
  try {
    return new RegExp(`^${hiddenGuard}${source}$`);
  } catch (error) {
    // A class the regular expression engine refuses, such as the reversed range `[z-a]`.
    throw new TypeError(`Invalid glob ${JSON.stringify(glob)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A predicate over file names: matches one of `include` and none of `exclude`. */
export function fileNameFilter(
  include: string | readonly string[],
  exclude: string | readonly string[],
): (name: string) => boolean {
  const toList = (value: string | readonly string[]): readonly string[] =>
    typeof value === 'string' ? [value] : value;
  const included = toList(include).map(compileGlob);
  const excluded = toList(exclude).map(compileGlob);
  return (name) => included.some((re) => re.test(name)) && !excluded.some((re) => re.test(name));
}
