// Declarations the sources mark `@internal` must not reach the published
// types (tsconfig's stripInternal, which tsup's .d.ts step reads). Every
// package's dist/ is read, so this runs after the build; the internal names
// come from the sources, so a new `@internal` member is covered as it is added.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const packages = readdirSync(packagesDir).filter((name) => existsSync(join(packagesDir, name, 'package.json')));

interface InternalDeclaration {
  readonly file: string;
  /** The class or interface it is a member of; undefined at module level. */
  readonly container: string | undefined;
  /** 'constructor' for a constructor. */
  readonly name: string;
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
}

function memberName(member: ts.ClassElement | ts.TypeElement): string | undefined {
  if (ts.isConstructorDeclaration(member)) return 'constructor';
  const name = member.name;
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return undefined;
}

/** Names a statement declares at module level (a variable statement can declare several). */
function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  }
  if (
    ts.isFunctionDeclaration(statement) ||
    ts.isClassDeclaration(statement) ||
    ts.isInterfaceDeclaration(statement) ||
    ts.isTypeAliasDeclaration(statement) ||
    ts.isEnumDeclaration(statement)
  ) {
    return statement.name === undefined ? [] : [statement.name.text];
  }
  return [];
}

const isInternal = (node: ts.Node) => ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');

function internalDeclarations(packageDir: string): InternalDeclaration[] {
  const sources = filesUnder(join(packageDir, 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'));
  return sources.flatMap((path) => {
    const file = relative(packagesDir, path);
    const found: InternalDeclaration[] = [];
    for (const statement of parse(path).statements) {
      if (isInternal(statement))
        for (const name of declaredNames(statement)) found.push({ file, container: undefined, name });
      if (!ts.isClassDeclaration(statement) && !ts.isInterfaceDeclaration(statement)) continue;
      const container = statement.name?.text;
      const members: readonly (ts.ClassElement | ts.TypeElement)[] = statement.members;
      for (const member of members) {
        const name = memberName(member);
        if (name !== undefined && isInternal(member)) found.push({ file, container, name });
      }
    }
    return found;
  });
}

interface PublishedTypes {
  readonly topLevel: Set<string>;
  /** Members of each class and interface, by name. */
  readonly members: Map<string, Set<string>>;
}

/** The rollup of .d.ts files renames clashing declarations `Name$1`: the source name is what counts. */
const sourceName = (name: string) => name.replace(/\$\d+$/, '');

function publishedTypes(path: string): PublishedTypes {
  const topLevel = new Set<string>();
  const members = new Map<string, Set<string>>();
  for (const statement of parse(path).statements) {
    for (const name of declaredNames(statement)) topLevel.add(sourceName(name));
    if ((ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) && statement.name !== undefined) {
      const names = members.get(sourceName(statement.name.text)) ?? new Set<string>();
      const list: readonly (ts.ClassElement | ts.TypeElement)[] = statement.members;
      for (const member of list) {
        const name = memberName(member);
        if (name !== undefined) names.add(name);
      }
      members.set(sourceName(statement.name.text), names);
    }
  }
  return { topLevel, members };
}

test('no @internal declaration of any package appears in its published .d.ts / .d.cts', () => {
  const leaks: string[] = [];
  let internalCount = 0;
  // Internal members whose class is published: the cases where stripping actually had work to do.
  let checkedAgainstPublishedClass = 0;
  for (const pkg of packages) {
    const packageDir = join(packagesDir, pkg);
    const typeFiles = filesUnder(join(packageDir, 'dist'), (name) => name.endsWith('.d.ts') || name.endsWith('.d.cts'));
    expect(typeFiles, `no .d.ts in packages/${pkg}/dist: build first`).not.toEqual([]);
    const internal = internalDeclarations(packageDir);
    internalCount += internal.length;
    for (const typeFile of typeFiles) {
      const published = publishedTypes(typeFile);
      const where = relative(packagesDir, typeFile);
      for (const decl of internal) {
        const label = `${where}: ${decl.container === undefined ? '' : `${decl.container}.`}${decl.name} (@internal in ${decl.file})`;
        if (decl.container === undefined) {
          if (published.topLevel.has(decl.name)) leaks.push(label);
          continue;
        }
        const members = published.members.get(decl.container);
        if (members === undefined) continue;
        checkedAgainstPublishedClass++;
        if (members.has(decl.name)) leaks.push(label);
      }
    }
  }
  expect(internalCount).toBeGreaterThan(0);
  expect(checkedAgainstPublishedClass).toBeGreaterThan(0);
  expect(leaks).toEqual([]);
});

// stripInternal removes a declaration even where a published one still names
// it; the published types must compile as a user's project sees them.
test('every package’s published types compile without what was stripped', () => {
  const roots = packages.flatMap((pkg) =>
    filesUnder(join(packagesDir, pkg, 'dist'), (name) => name.endsWith('.d.ts') || name.endsWith('.d.cts')),
  );
  expect(roots).not.toEqual([]);
  const program = ts.createProgram(roots, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [fileURLToPath(new URL('../../../node_modules/@types', import.meta.url))],
  });
  const problems = roots.flatMap((root) => {
    const file = program.getSourceFile(root);
    if (file === undefined) return [`${relative(packagesDir, root)}: not loaded`];
    return program.getSemanticDiagnostics(file).map((d) => {
      const line = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line + 1;
      return `${relative(packagesDir, root)}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  });
  expect(problems).toEqual([]);
});
