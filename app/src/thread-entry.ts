// What a worker thread runs to load a module of ours. Built, that is the module's own file. Run
// from TypeScript source (tests, tsx), Node 20 does not carry the `--import tsx` hooks into worker
// threads, so the thread registers tsx itself before it imports the module.
export function threadEntryOf(moduleUrl: string): [string | URL, { eval: true }?] {
  if (!moduleUrl.endsWith('.ts')) return [new URL(moduleUrl)];
  const tsx = import.meta.resolve('tsx/esm/api');
  return [`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); });`, { eval: true }];
}
