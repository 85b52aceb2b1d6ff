// Type-checks code the way a user's project compiles it: against the built
// .d.ts, found through the package's own `exports` (so run after the build).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface Snippet {
  /** Where it came from, for the failure message. */
  readonly label: string;
  readonly code: string;
}

/** The ```ts blocks of a Markdown text, each with the README line it starts on. */
export function typeScriptBlocks(markdown: string): Snippet[] {
  const blocks: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,})(ts|typescript)\s*$/.exec(lines[i] ?? '');
    if (fence === null) continue;
    const close = new RegExp(`^\\s*${fence[2]}\\s*$`);
    const start = i + 1;
    let end = start;
    while (end < lines.length && !close.test(lines[end] ?? '')) end++;
    blocks.push({ label: `README.md:${start + 1}`, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/**
 * Type-checks the snippets as modules of a project that has this package
 * installed (they sit in the package directory, so its name resolves to
 * itself through `exports`). Returns one line per diagnostic, in the
 * snippets and in the package's .d.ts files.
 */
export function typeCheck(snippets: readonly Snippet[]): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.asynciterable.d.ts'],
    types: ['node'],
  };
  const files = new Map<string, Snippet>();
  for (const [i, snippet] of snippets.entries()) files.set(join(packageDir, `__snippet-${i}.ts`), snippet);
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  // `export {}` makes every block a module of its own, as a file with an import is.
  const text = (name: string) => {
    const snippet = files.get(name);
    return snippet === undefined ? undefined : `${snippet.code}\nexport {};\n`;
  };
  host.readFile = (name) => text(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const source = text(name);
    if (source !== undefined) return ts.createSourceFile(name, source, languageVersion, true);
    return getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const distDir = join(packageDir, 'dist');
  const checked = program
    .getSourceFiles()
    .filter((file) => files.has(file.fileName) || file.fileName.startsWith(distDir));
  // Without the built types every import would fail; make that failure plain.
  expect(checked.filter((file) => file.fileName.startsWith(distDir)).length).toBeGreaterThan(0);
  return checked.flatMap((file) =>
    [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) => {
      const where = files.get(file.fileName)?.label ?? file.fileName;
      const line = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line;
      return `${where} +${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }),
  );
}
