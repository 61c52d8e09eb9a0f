// Usage: node validate.mjs URL-or-file
// Validates an OpenAPI document against the specification's schema and checks every $ref resolves
// (@apidevtools/swagger-parser). Prints "valid <title> <version> <n> paths" or the errors and exits 1.
import SwaggerParser from "@apidevtools/swagger-parser";

const source = process.argv[2];
if (!source) {
  console.error("usage: node validate.mjs URL-or-file");
  process.exit(2);
}

let document = source;
if (/^https?:\/\//.test(source)) {
  const response = await fetch(source);
  if (!response.ok) {
    console.error(`GET ${source}: ${response.status}`);
    process.exit(1);
  }
  document = await response.json();
}

try {
  const api = await SwaggerParser.validate(document);
  console.log(`valid ${api.info.title} ${api.openapi} ${Object.keys(api.paths ?? {}).length} paths`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
