/**
 * The tenant rule, read from the types (TypeScript's compiler API, not text matching):
 *
 * 1. Outside src-main/vault, no function, method or arrow takes a raw database (`Db`, a prepared
 *    `Statement`, or an object carrying one): tenant data is reached through a `TenantHandle` only.
 * 2. Outside src-main/vault, every function that reaches tenant data (reads `.db` of a handle, holds
 *    an expression of the database type, or calls anything that asks for a `TenantHandle`) has its
 *    handle from a scope it can name: a `TenantHandle` parameter of its own or of a function
 *    around it, a handle-holding field of an object built from a handle, or a handle the vault has
 *    just opened (a call into src-main/vault, or to the session that wraps it, returning one).
 *    A handle found anywhere else (a map keyed by tenant id, a module-level "current tenant") is
 *    exactly the forgotten scope the design forbids, and fails.
 *
 * Generic functions, arrows, methods, accessors and renamed parameters are all seen, because the
 * check asks the type checker for each parameter's and expression's type. cli/ is included.
 */
import path from 'node:path';
import ts from 'typescript';

export interface Offence {
  file: string;
  line: number;
  fn: string;
  why: string;
}

const VAULT = `${path.sep}src-main${path.sep}vault${path.sep}`;

/** Where a user's choice of tenant (a name, an id from the console) becomes the vault's handle. */
const ENTRIES = [path.join('src-main', 'api', 'session.ts'), path.join('src-main', 'cli', 'context.ts')];

function isUnder(file: string, dir: string): boolean {
  return path.resolve(file).includes(dir);
}

export function checkTenantScope(rootNames: string[], opts: { compilerOptions?: ts.CompilerOptions } = {}): Offence[] {
  const program = ts.createProgram(rootNames, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    ...opts.compilerOptions,
  });
  const checker = program.getTypeChecker();
  const offences: Offence[] = [];

  const declaredIn = (sym: ts.Symbol | undefined, test: (file: string) => boolean): boolean =>
    !!sym?.declarations?.some((d) => test(d.getSourceFile().fileName));

  const aliasTarget = (sym: ts.Symbol | undefined): ts.Symbol | undefined => (sym && sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym);

  /** TenantHandle: the class declared in src-main/vault/handle.ts (through unions and `| null`). */
  const isHandleType = (type: ts.Type): boolean => {
    if (type.isUnion()) return type.types.some(isHandleType);
    const sym = aliasTarget(type.getSymbol());
    return sym?.getName() === 'TenantHandle' && declaredIn(sym, (f) => f.endsWith(`${path.sep}vault${path.sep}handle.ts`) || f.endsWith('/vault/handle.ts'));
  };

  /** The SQLite driver's Database or Statement, however it is aliased (`Db`, `Statement`). */
  const isRawDbType = (type: ts.Type, depth = 0): boolean => {
    if (type.isUnion() || type.isIntersection()) return type.types.some((t) => isRawDbType(t, depth));
    const sym = aliasTarget(type.getSymbol() ?? type.aliasSymbol);
    if (sym && ['Database', 'Statement'].includes(sym.getName()) && declaredIn(sym, (f) => f.includes('better-sqlite3'))) return true;
    if (depth === 0 && type.flags & ts.TypeFlags.Object && !isHandleType(type)) {
      // an options object carrying a connection: { db: Db } counts as taking one
      for (const prop of type.getProperties()) {
        const decl = prop.valueDeclaration;
        if (!decl || decl.getSourceFile().isDeclarationFile) continue;
        if (isRawDbType(checker.getTypeOfSymbolAtLocation(prop, decl), 1)) return true;
      }
    }
    return false;
  };

  const fnName = (node: ts.Node): string => {
    const named = node as ts.Node & { name?: ts.Node };
    if (named.name && ts.isIdentifier(named.name)) return named.name.text;
    if (named.name && ts.isPrivateIdentifier(named.name)) return named.name.text;
    if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const p = node.parent;
      if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
      if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
      if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
      return '(callback)';
    }
    if (ts.isConstructorDeclaration(node)) return 'constructor';
    return '(anonymous)';
  };

  const takesHandle = (fn: ts.SignatureDeclaration): boolean => fn.parameters.some((p) => isHandleType(checker.getTypeAtLocation(p)));

  /** A class built from a handle (its constructor takes one) or one that holds the vault's session. */
  const classScoped = (cls: ts.ClassLikeDeclaration): boolean => cls.members.some((m) => ts.isConstructorDeclaration(m) && takesHandle(m));

  /** Where a handle expression comes from, if the function may use it. */
  const handleFromScope = (expr: ts.Expression, fn: ts.SignatureDeclaration): boolean => {
    let e: ts.Expression = expr;
    while (ts.isNonNullExpression(e) || ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isAwaitExpression(e)) e = e.expression;
    if (e.kind === ts.SyntaxKind.NullKeyword) return true;
    if (ts.isConditionalExpression(e)) return handleFromScope(e.whenTrue, fn) && handleFromScope(e.whenFalse, fn);
    if (
      ts.isBinaryExpression(e) &&
      [ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.AmpersandAmpersandToken].includes(e.operatorToken.kind)
    )
      return handleFromScope(e.left, fn) && handleFromScope(e.right, fn);
    if (ts.isIdentifier(e)) {
      const sym = checker.getSymbolAtLocation(e);
      const decl = sym?.valueDeclaration;
      if (!decl) return false;
      if (ts.isParameter(decl)) return true; // its own or an enclosing function's parameter
      if (ts.isVariableDeclaration(decl) && decl.initializer) {
        // a local: where did it come from?
        const insideFn = ts.findAncestor(decl, ts.isFunctionLike) !== undefined;
        if (!insideFn) return false; // module-level: a "current tenant" global
        return handleFromScope(decl.initializer, fn) || fromVaultCall(decl.initializer);
      }
      if (ts.isBindingElement(decl)) return true; // destructured from a parameter or callback argument
      return false;
    }
    if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) {
      const cls = ts.findAncestor(e, ts.isClassLike);
      return !!cls && (classScoped(cls) || holdsVaultSession(cls));
    }
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      // a field of something in scope (ctx.tenant, this.session.current): scoped if its root is
      const root = ts.isPropertyAccessExpression(e) ? e.expression : e.expression;
      if (ts.isIdentifier(root)) {
        const decl = checker.getSymbolAtLocation(root)?.valueDeclaration;
        if (decl && (ts.isParameter(decl) || ts.isBindingElement(decl))) return !ts.isElementAccessExpression(e);
        if (decl && ts.isVariableDeclaration(decl) && ts.findAncestor(decl, ts.isFunctionLike)) return !ts.isElementAccessExpression(e);
      }
      if (root.kind === ts.SyntaxKind.ThisKeyword || ts.isPropertyAccessExpression(root)) return handleFromScope(root as ts.Expression, fn);
      return fromVaultCall(root);
    }
    return fromVaultCall(e);
  };

  /** `vault.openSession().open(id)`, `session.open(id)`: the vault (or the session over it) hands out the handle. */
  const fromVaultCall = (expr: ts.Expression): boolean => {
    let e = expr;
    while (ts.isAwaitExpression(e) || ts.isNonNullExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
    if (!ts.isCallExpression(e)) return false;
    const sig = checker.getResolvedSignature(e);
    const decl = sig?.getDeclaration();
    if (!decl) return false;
    const file = decl.getSourceFile().fileName;
    return isUnder(file, VAULT) || ENTRIES.some((entry) => path.resolve(file).endsWith(entry));
  };

  /** A class whose fields hold the vault's TenantSession: it opens handles itself (the console session). */
  const holdsVaultSession = (cls: ts.ClassLikeDeclaration): boolean =>
    cls.members.some((m) => {
      if (!ts.isPropertyDeclaration(m)) return false;
      const sym = aliasTarget(checker.getTypeAtLocation(m).getSymbol());
      return !!sym && ['TenantSession', 'Vault'].includes(sym.getName()) && declaredIn(sym, (f) => isUnder(f, VAULT));
    });

  const reaches = (node: ts.Node, fn: ts.SignatureDeclaration, out: { why: string; ok: boolean }[]): void => {
    if (node !== fn && ts.isFunctionLike(node)) return; // nested functions are checked on their own
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'db') {
      const target = checker.getTypeAtLocation(node.expression);
      if (isHandleType(target)) out.push({ why: "reads a handle's database", ok: handleFromScope(node.expression, fn) });
    } else if (ts.isCallExpression(node)) {
      const sig = checker.getResolvedSignature(node);
      const params = sig?.getParameters() ?? [];
      params.forEach((p, i) => {
        const decl = p.valueDeclaration;
        if (!decl) return;
        if (!isHandleType(checker.getTypeOfSymbolAtLocation(p, decl))) return;
        const arg = node.arguments[i];
        if (!arg) return;
        if (!isHandleType(checker.getTypeAtLocation(arg))) return;
        out.push({ why: `passes a handle to ${node.expression.getText().slice(0, 40)}`, ok: handleFromScope(arg, fn) });
      });
    }
    ts.forEachChild(node, (c) => reaches(c, fn, out));
  };

  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || !rootNames.some((r) => path.resolve(r) === path.resolve(sf.fileName))) continue;
    if (isUnder(sf.fileName, VAULT)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const fn = node as ts.SignatureDeclaration & { body: ts.Node };
        const where = (n: ts.Node) => ({
          file: path.relative(process.cwd(), sf.fileName),
          line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1,
          fn: fnName(fn),
        });
        for (const p of fn.parameters) {
          if (isRawDbType(checker.getTypeAtLocation(p))) offences.push({ ...where(p), why: `takes a raw database (${p.name.getText()})` });
        }
        const found: { why: string; ok: boolean }[] = [];
        reaches(fn.body, fn, found);
        for (const f of found.filter((x) => !x.ok))
          offences.push({ ...where(fn), why: `${f.why} with a handle that is not its parameter, nor one the vault opened here` });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return offences;
}
