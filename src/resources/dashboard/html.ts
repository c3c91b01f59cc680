/**
 * The dashboard view's HTML. Running from source, it is built from ui/ on first use (Bun.build, ~0.2 s);
 * the compiled binary carries it instead: build.ts replaces this module with the string it built.
 */
let built: Promise<string> | undefined;

export function dashboardHtml(): Promise<string> {
  built ??= import('../../../ui/build.ts').then((m) => m.buildDashboardHtml());
  return built;
}
