// Validates an AsyncAPI document with the AsyncAPI project's own parser (@asyncapi/parser,
// from the npm registry): any diagnostic of error severity fails.
//     node .ci/asyncapi_check.mjs asyncapi.json   (with @asyncapi/parser in NODE_PATH's reach)
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const text = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(text);
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(`${["error", "warning", "info", "hint"][d.severity]}: ${d.message} at ${d.path.join(".")}`);
}
if (!document || errors.length > 0) {
  console.error(`${errors.length} errors`);
  process.exit(1);
}
console.log(`ok: AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
