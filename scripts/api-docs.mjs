#!/usr/bin/env node
// Generates docs/api.md: every public export of every package (each entry of
// its package.json "exports"), with its signature and doc comment, read from
// the TypeScript sources with the compiler API. `--check` exits 1 when the
// committed file differs from what the sources say (a test runs it).
//   node scripts/api-docs.mjs          write docs/api.md
//   node scripts/api-docs.mjs --check  compare only
// Re-exports of another package's symbols point there instead of repeating it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'docs', 'api.md');
const F = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

/** Packages with exports, in name order, and their entry points mapped from dist types to sources. */
function packages() {
  const list = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.private || !pkg.exports) continue;
    const entries = [];
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      const types = typeof target === 'string' ? target : (target.import?.types ?? target.types);
      if (typeof types !== 'string') continue;
      const source = join(root, 'packages', dir, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'));
      if (existsSync(source))
        entries.push({ name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source });
    }
    if (entries.length > 0)
      list.push({ name: pkg.name, dir: join(root, 'packages', dir), description: pkg.description ?? '', entries });
  }
  return list;
}

const pkgs = packages();
// Workspace packages resolve to their sources, so the reference never depends on a stale build.
const paths = {};
for (const p of pkgs) for (const e of p.entries) paths[e.name] = [relative(root, e.source)];
const program = ts.createProgram(
  pkgs.flatMap((p) => p.entries.map((e) => e.source)),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    baseUrl: root,
    paths,
  },
);
const checker = program.getTypeChecker();
const printer = ts.createPrinter({ removeComments: false });

const doc = (symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
const firstLine = (text) => text.split('\n')[0];
const ownerOf = (decl) => pkgs.find((p) => resolve(decl.getSourceFile().fileName).startsWith(`${p.dir}/`));
const isPublic = (decl) =>
  !(ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) &&
  !(decl.name && ts.isPrivateIdentifier(decl.name));

function memberLines(symbol, decl, isStatic) {
  const lines = [];
  const props = isStatic
    ? checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(symbol, decl))
    : checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol));
  for (const member of props) {
    const d = member.declarations?.[0];
    if (!d || !isPublic(d) || member.name === 'prototype' || member.name.startsWith('__')) continue;
    // Inherited from outside the workspace (e.g. Node's EventEmitter), or marked @internal: not this project's API.
    if (!ownerOf(d) || ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal')) continue;
    const type = checker.getTypeOfSymbolAtLocation(member, d);
    const prefix = isStatic ? 'static ' : '';
    const readonly = ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
    let line;
    if (member.flags & ts.SymbolFlags.Method) {
      line = type
        .getCallSignatures()
        .map((s) => `${prefix}${member.name}${checker.signatureToString(s, d, F)};`)
        .join(' ');
    } else if (member.flags & ts.SymbolFlags.GetAccessor) {
      line = `${prefix}${member.flags & ts.SymbolFlags.SetAccessor ? '' : 'readonly '}${member.name}: ${checker.typeToString(type, d, F)};`;
    } else {
      line = `${prefix}${readonly}${member.name}${member.flags & ts.SymbolFlags.Optional ? '?' : ''}: ${checker.typeToString(type, d, F)};`;
    }
    const note = firstLine(doc(member));
    lines.push(`  ${line}${note ? ` // ${note}` : ''}`);
  }
  return lines;
}

function render(name, symbol) {
  const decls = symbol.declarations ?? [];
  const blocks = [];
  for (const decl of decls) {
    if (ts.isFunctionDeclaration(decl)) {
      const sig = checker.getSignatureFromDeclaration(decl);
      if (sig) blocks.push(`function ${name}${checker.signatureToString(sig, decl, F)};`);
    } else if (ts.isClassDeclaration(decl)) {
      const lines = [
        `class ${name}${decl.heritageClauses ? ` ${decl.heritageClauses.map((h) => h.getText()).join(' ')}` : ''} {`,
      ];
      const ctorType = checker.getTypeOfSymbolAtLocation(symbol, decl);
      for (const sig of ctorType.getConstructSignatures()) {
        const params = sig.getParameters().map((p) => {
          const pd = p.valueDeclaration;
          const optional = pd && ts.isParameter(pd) && (pd.questionToken || pd.initializer) ? '?' : '';
          return `${p.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(p, decl), decl, F)}`;
        });
        lines.push(`  constructor(${params.join(', ')});`);
      }
      lines.push(...memberLines(symbol, decl, true), ...memberLines(symbol, decl, false), '}');
      blocks.push(lines.join('\n'));
    } else if (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl) || ts.isEnumDeclaration(decl)) {
      blocks.push(
        printer.printNode(ts.EmitHint.Unspecified, decl, decl.getSourceFile()).replace(/^export (declare )?/, ''),
      );
    } else if (ts.isVariableDeclaration(decl)) {
      blocks.push(`const ${name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, decl), decl, F)};`);
    }
  }
  return blocks.join('\n');
}

const kindOf = (symbol) => {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Variable) return f & ts.SymbolFlags.TypeAlias ? 'const + type' : 'const';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  return 'export';
};
const anchor = (text) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

const out = [
  '# API reference',
  '',
  'Every public export of every package, entry point by entry point, with its signature and doc comment. Generated from the TypeScript sources by `node scripts/api-docs.mjs` (the compiler API); do not edit by hand: a test regenerates it and fails when this file is stale.',
  '',
];
for (const p of pkgs)
  out.push(`- [\`${p.name}\`](#${anchor(p.name)}) — ${p.entries.map((e) => `\`${e.name}\``).join(', ')}`);
for (const p of pkgs) {
  out.push('', `## ${p.name}`, '');
  if (p.description) out.push(p.description, '');
  const documented = new Map();
  for (const entry of p.entries) {
    const sf = program.getSourceFile(entry.source);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
    out.push(`### \`${entry.name}\``, '');
    const same = [];
    const foreign = [];
    for (const exp of exports) {
      const symbol = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const decl = symbol.declarations?.[0];
      if (!decl) continue;
      const owner = ownerOf(decl);
      if (owner && owner.name !== p.name) {
        foreign.push(`\`${exp.name}\` (${owner.name})`);
        continue;
      }
      if (documented.has(symbol)) {
        same.push(`\`${exp.name}\``);
        continue;
      }
      documented.set(symbol, entry.name);
      out.push(`#### \`${exp.name}\` — ${kindOf(symbol)}`, '');
      const text = doc(symbol);
      if (text) out.push(text, '');
      const code = render(exp.name, symbol);
      if (code) out.push('```ts', code, '```', '');
    }
    if (same.length > 0) out.push(`Also exported here, as documented above: ${same.join(', ')}.`, '');
    if (foreign.length > 0) out.push(`Re-exported from other packages: ${foreign.join(', ')}.`, '');
  }
}
const text = `${out
  .join('\n')
  .replace(/\n{3,}/g, '\n\n')
  .trimEnd()}\n`;

if (process.argv.includes('--check')) {
  const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  if (current !== text) {
    console.error('docs/api.md is stale: run `node scripts/api-docs.mjs` and commit the result.');
    process.exit(1);
  }
  console.log('docs/api.md is up to date');
} else {
  writeFileSync(outFile, text);
  console.log(`wrote ${relative(root, outFile)} (${text.length} bytes)`);
}
