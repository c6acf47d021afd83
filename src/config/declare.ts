/**
 * How an option is declared: its variable, kind (parser and bounds), default and description, in
 * a tree whose shape is the Config's. The Config type, its reading and the README table are all
 * derived from the tree.
 */
import type { Kind } from "./kinds.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** One value of the Config, read from one variable or more. */
export interface Field<T> {
  /** The variables it is read from, in the README's order. */
  readonly options: readonly Option<unknown>[];
  /** Its value; a setting that cannot be read is added to `problems` and the default used. */
  read(env: Env, problems: string[]): T;
}

export interface OptionSpec<T> {
  /** The environment variable. */
  env: string;
  /** What it accepts and how it is read. */
  kind: Kind<T>;
  /** The value when it is unset or empty. */
  default: NoInfer<T>;
  /** The README's meaning column (markdown). */
  doc: string;
  /** The README's default column when the default is not one fixed value (markdown). */
  shownDefault?: string;
}

/** One environment variable. */
export class Option<T> implements Field<T> {
  readonly env: string;
  readonly kind: Kind<T>;
  readonly default: T;
  readonly doc: string;
  readonly shownDefault: string;

  constructor(spec: OptionSpec<T>) {
    this.env = spec.env;
    this.kind = spec.kind;
    this.default = spec.default;
    this.doc = spec.doc;
    this.shownDefault = spec.shownDefault ?? spec.kind.show(spec.default);
  }

  get options(): readonly Option<unknown>[] {
    return [this];
  }

  read(env: Env, problems: string[]): T {
    const raw = env[this.env];
    if (raw === undefined || raw === "") return this.default;
    try {
      return this.kind.parse(raw);
    } catch (err: unknown) {
      const shown = JSON.stringify(this.kind.redact ? this.kind.redact(raw) : raw);
      const problem = `${this.env}=${shown}: ${err instanceof Error ? err.message : String(err)}`;
      // A variable two fields read (the keys file) is reported once.
      if (!problems.includes(problem)) problems.push(problem);
      return this.default;
    }
  }
}

export function option<T>(spec: OptionSpec<T>): Option<T> {
  return new Option(spec);
}

type ValuesOf<S> = { [K in keyof S]: S[K] extends Option<infer T> ? T : never };

/** One value from several variables (a list and a file of keys, a signal's and the general OTLP setting). */
class Combined<S extends Readonly<Record<string, Option<unknown>>>, T> implements Field<T> {
  constructor(
    private readonly from: S,
    private readonly combine: (values: ValuesOf<S>) => T,
  ) {}

  get options(): readonly Option<unknown>[] {
    return Object.values(this.from);
  }

  read(env: Env, problems: string[]): T {
    // Every variable is read, so every one is checked, whichever wins.
    const values = Object.fromEntries(
      Object.entries(this.from).map(([name, option]) => [name, option.read(env, problems)]),
    );
    return this.combine(values as ValuesOf<S>);
  }
}

export function combined<const S extends Readonly<Record<string, Option<unknown>>>, T>(spec: {
  from: S;
  combine: (values: ValuesOf<S>) => T;
}): Field<T> {
  return new Combined(spec.from, spec.combine);
}

/** A tree of fields: each branch becomes a nested object of the Config. */
export interface Declarations {
  readonly [name: string]: Field<unknown> | Declarations;
}

/** The Config a tree of declarations gives. */
export type ConfigOf<D extends Declarations> = {
  -readonly [K in keyof D]: D[K] extends Field<infer T> ? T : D[K] extends Declarations ? ConfigOf<D[K]> : never;
};

const isField = (node: Field<unknown> | Declarations): node is Field<unknown> =>
  node instanceof Option || node instanceof Combined;

export function readDeclarations<D extends Declarations>(tree: D, env: Env, problems: string[]): ConfigOf<D> {
  const read = (node: Declarations): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(node).map(([name, child]) => [name, isField(child) ? child.read(env, problems) : read(child)]),
    );
  return read(tree) as ConfigOf<D>;
}

/** Every variable of the tree, in declaration order (the README's). */
export function optionsOf(tree: Declarations): Option<unknown>[] {
  // A variable two fields read (the keys file: keys and egress lists) is listed once.
  return [...new Set(Object.values(tree).flatMap((child) => (isField(child) ? child.options : optionsOf(child))))];
}
