/**
 * Regenerates the README's option and tool tables from the config schema and the catalogue.
 * `bun scripts/docs.ts` rewrites README.md; test/unit/docs.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsBySection } from '../src/config/help.ts';
import { defaultText, SECTIONS } from '../src/config/meta.ts';
import { catalogue } from '../src/tools/index.ts';

const README = join(import.meta.dir, '..', 'README.md');
const cell = (s: string) => s.replaceAll('|', '\\|');

/** One table per section, in the order --help prints them. */
export function optionsTable(): string {
  return fieldsBySection()
    .map(([section, fields]) => {
      // No file key for --config: a config file cannot name another.
      const rows = fields.map(([key, s]) => {
        const def = defaultText(s);
        return `| \`${s.flag}\` | ${s.env.map((e) => `\`${e}\``).join(', ')} | ${key === 'config' ? '' : `\`${key}\``} | ${def ? `\`${def}\`` : ''} | ${cell(s.description)} |`;
      });
      return [
        `**${SECTIONS[section]}**`,
        '',
        '| Flag | Env | Config file key | Default | What it does |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n');
    })
    .join('\n\n');
}

export function toolsTable(): string {
  // A tool whose arguments escalate its tier says which: "moderate; destructive with `force`".
  const tier = (t: (typeof catalogue)[number]) =>
    [
      t.safety,
      ...Object.entries((t.escalate ?? {}) as Record<string, string | Record<string, string>>).flatMap(
        ([arg, s]) =>
          typeof s === 'string'
            ? [`${s} with \`${arg}\``]
            : Object.entries(s).map(([value, tier]) => `${tier} with \`${arg}: ${value}\``),
      ),
    ].join('; ');
  const rows = catalogue.map((t) => `| \`${t.name}\` | ${tier(t)} | ${cell(t.description)} |`);
  return ['| Tool | Safety | What it does |', '|---|---|---|', ...rows].join('\n');
}

export function render(readme: string): string {
  const put = (text: string, name: string, body: string) =>
    text.replace(new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`), `$1\n${body}\n$2`);
  return put(put(readme, 'options', optionsTable()), 'tools', toolsTable());
}

if (import.meta.main) {
  const before = readFileSync(README, 'utf8');
  const after = render(before);
  writeFileSync(README, after);
  console.error(before === after ? 'README.md already up to date' : 'README.md tables regenerated');
}
