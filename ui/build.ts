/**
 * The dashboard's MCP App view as ONE self-contained HTML string: ui/dashboard/ bundled by Bun.build
 * (the ext-apps App class and our code, minified), its CSS inline, and a Content-Security-Policy that
 * allows exactly that script and that style (by hash) and nothing else: no network, no other source.
 * build.ts compiles the string into the binary; running from source builds it on first read.
 */
import { join } from 'node:path';

const DIR = join(import.meta.dir, 'dashboard');

const sha256 = (text: string) => `'sha256-${new Bun.CryptoHasher('sha256').update(text).digest('base64')}'`;

export async function buildDashboardHtml(): Promise<string> {
  const built = await Bun.build({
    entrypoints: [join(DIR, 'main.ts')],
    target: 'browser',
    format: 'esm',
    minify: true,
  });
  if (!built.success || !built.outputs[0])
    throw new Error(`dashboard bundle failed: ${built.logs.map(String).join('\n')}`);
  // A `</script` inside the code would end the element early.
  const js = (await built.outputs[0].text()).replaceAll('</script', '<\\/script');
  const css = await Bun.file(join(DIR, 'style.css')).text();
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(js)}`,
    `style-src ${sha256(css)}`,
    "img-src 'none'",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Docker dashboard</title>
<style>${css}</style>
</head><body><main id="app"></main>
<script type="module">${js}</script>
</body></html>
`;
}
