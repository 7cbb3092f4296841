// The JavaScript a first visit downloads (the entry script of dist/index.html and the chunks it
// preloads, i.e. what it imports statically), gzipped: `npm run size` after `npm run build`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [
  ...html.matchAll(/<script type="module"[^>]* src="\/admin\/([^"]+)"/g),
  ...html.matchAll(/<link rel="modulepreload"[^>]* href="\/admin\/([^"]+)"/g),
].map((match) => match[1]);
let total = 0;
for (const file of scripts) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1000).toFixed(2).padStart(9)} kB  ${file}`);
}
console.log(`${(total / 1000).toFixed(2).padStart(9)} kB  first load, JavaScript, gzipped (${scripts.length} files)`);
