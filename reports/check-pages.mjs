// Compile every page the way Evidence does, without running any query: `npm run check`.
//
// Each pages/*.md goes through Evidence's markdown preprocessor and the Svelte compiler, so a
// broken tag, an unclosed block or bad template syntax fails here. Every component a page uses
// must be one that @evidence-dev/core-components exports (a misspelt <BarChar> would otherwise
// only show up in the browser). The SQL is checked by tests/integration/test_reports_sql.py.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const { preprocess, compile } = require('svelte/compiler');
const evidencePreprocess = require('@evidence-dev/preprocess');

// Components Evidence adds to every page itself, besides the core components.
const BUILT_IN = new Set(['QueryViewer']);

/** The names exported by an ES module file, following `export * from` re-exports. */
function exportedNames(file, seen = new Set()) {
	if (seen.has(file)) return new Set();
	seen.add(file);
	const names = new Set();
	const text = readFileSync(file, 'utf8');
	for (const [, list] of text.matchAll(/export\s*\{([^}]*)\}/g)) {
		for (const item of list.split(',')) {
			const name = item.trim().split(/\s+as\s+/).pop();
			if (name) names.add(name);
		}
	}
	for (const [, target] of text.matchAll(/export\s*\*\s*from\s*['"]([^'"]+)['"]/g)) {
		let path = join(dirname(file), target);
		if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.js');
		else if (!path.endsWith('.js')) path += '.js';
		if (existsSync(path)) exportedNames(path, seen).forEach((n) => names.add(n));
	}
	return names;
}

const coreComponents = exportedNames(
	new URL('./node_modules/@evidence-dev/core-components/dist/index.js', import.meta.url).pathname
);

let failed = 0;
for (const file of readdirSync('pages').filter((f) => f.endsWith('.md')).sort()) {
	const source = `pages/${file}`;
	// the path Evidence gives a page once it copies it into its SvelteKit template
	const route = file === 'index.md' ? '' : `/${file.slice(0, -3)}`;
	const filename = `/src/pages${route}/+page.md`;
	try {
		const { code } = await preprocess(readFileSync(source, 'utf8'), evidencePreprocess(), { filename });
		const { warnings } = compile(code, { filename, generate: 'ssr' });
		const unknown = new Set(
			warnings
				.filter((w) => w.code === 'missing-declaration')
				.map((w) => /'(\w+)'/.exec(w.message)?.[1])
				.filter((name) => name && /^[A-Z]/.test(name) && !BUILT_IN.has(name) && !coreComponents.has(name))
		);
		if (unknown.size) throw new Error(`unknown components: ${[...unknown].join(', ')}`);
		console.log(`ok   ${source}`);
	} catch (error) {
		failed += 1;
		console.log(`FAIL ${source}: ${error.message}`);
	}
}
console.log(`${coreComponents.size} core components known; ${failed} page(s) failed`);
process.exit(failed ? 1 : 0);
