/**
 * CLI flags derived from a stage's option schema (src/stages/options.ts): the flag, its value
 * check, its default and its help text all come from the schema, so `--epochs 0`, `"epochs": 0`
 * and `{ epochs: 0 }` are refused with the same range.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DECIMAL, describeRange, schema, type NumericOption } from '../options.js';
import { describeSchema } from '../stages/options.js';

/** Flag names that are not the kebab-case of the field (`guardrailMargin` is `--guardrail`). */
export type FlagNames<P extends TProperties> = { readonly [K in keyof P]?: `--${string}` };

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());


/** Parses a flag's text as the field's schema asks; throws commander's error naming the flag and what it must be. */
function parser(flag: string, field: TSchema): (text: string) => unknown {
  return (text) => {
    const t = text.trim();
    let value: unknown = text;
    if (field.type === 'integer' || field.type === 'number') value = DECIMAL.test(t) ? Number(t) : Number.NaN;
    // A union (a model reference): numbers as numbers, `v3` as 3, names as they are.
    else if (field.anyOf && (DECIMAL.test(t) || /^v\d+$/.test(t))) value = Number(t.replace(/^v/, ''));
    if (!Value.Check(field, value)) throw new InvalidArgumentError(`${flag} must be ${describeSchema(field)}, got ${JSON.stringify(text)}`);
    return value;
  };
}

/**
 * Adds a flag for each of `fields` of `schema` to `command`. Booleans are switches; other fields
 * take a value checked against the field's schema.
 */
export function addSchemaFlags<P extends TProperties, K extends keyof P & string>(
  command: Command,
  schema: TObject<P>,
  fields: readonly K[],
  names: FlagNames<P> = {},
  descriptions: { readonly [F in K]?: string } = {},
): Command {
  for (const key of fields) {
    const field = schema.properties[key] as TSchema;
    const flag = names[key] ?? `--${kebab(key)}`;
    const text = descriptions[key] ?? String(field.description ?? key);
    const help = text.charAt(0).toLowerCase() + text.slice(1);
    if (field.type === 'boolean') {
      command.addOption(new Option(flag, help));
      continue;
    }
    const placeholder = field.type === 'integer' || field.type === 'number' ? '<n>' : `<${kebab(key)}>`;
    const option = new Option(`${flag} ${placeholder}`, field.anyOf || field.type === 'integer' || field.type === 'number' ? `${help} (${describeSchema(field)})` : help).argParser(
      parser(flag, field),
    );
    if (field.default !== undefined) option.default(field.default);
    command.addOption(option);
  }
  return command;
}

/**
 * The values of `fields` from a command's parsed options, as the schema's type: what
 * {@link addSchemaFlags} parsed (and checked) under each flag's attribute name.
 */
export function schemaValues<P extends TProperties, K extends keyof P & string>(
  opts: Readonly<Record<string, unknown>>,
  schema: TObject<P>,
  fields: readonly K[],
  names: FlagNames<P> = {},
): Partial<Static<TObject<P>>> {
  const out: Record<string, unknown> = {};
  for (const key of fields) {
    const value = opts[camel(names[key] ?? `--${kebab(key)}`)];
    if (value !== undefined) out[key] = value;
  }
  const picked = Type.Partial(schema);
  if (!Value.Check(picked, out)) throw new Error(`invalid options: ${[...Value.Errors(picked, out)].map((e) => `${e.path} ${e.message}`).join('; ')}`);
  return out;
}

/** Parses the text of a flag; throws commander's `InvalidArgumentError` naming the flag and the range. */
export function parseFlagValue(o: NumericOption, text: string): number {
  // The option's JSON schema, parsed like every schema-derived flag.
  return parser(o.flag, schema(o))(text) as number;
}

/**
 * A commander option for `o`, with its parser, default and the range in its help text.
 * `description` overrides the shared one where a command means something narrower ("split seed").
 */
export function flag(o: NumericOption, description = o.description): Option {
  const option = new Option(`${o.flag} ${o.placeholder}`, `${description} (${describeRange(o)})`).argParser((text) => parseFlagValue(o, text));
  return o.default !== undefined ? option.default(o.default) : option;
}
