// Complete package-lock.json with the DuckDB native bindings for other platforms.
//
// @duckdb/node-bindings lists one optional package per platform (darwin-arm64, linux-x64-musl,
// win32-x64, ...). When the registry that `npm install` reads lacks some of them at the pinned
// version (the one reachable where this lockfile was made carries only the Linux x64 ones of
// 1.5.6-r.1), npm leaves them out of the lockfile and `npm ci` then refuses it as out of sync.
// This adds each missing one as an optional entry with its version and platform (os, cpu, libc,
// read from the package name): `npm ci` skips it on other platforms and fetches it on its own.
//
// Run by `npm run lock` after `npm install --package-lock-only`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('./package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const PREFIX = '@duckdb/node-bindings-';

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
	if (!location.endsWith('node_modules/@duckdb/node-bindings')) continue;
	for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
		const target = `${location.slice(0, -'@duckdb/node-bindings'.length)}${name}`;
		if (!name.startsWith(PREFIX) || packages[target]) continue;
		const [os, cpu, libc] = name.slice(PREFIX.length).split('-');
		packages[target] = {
			version,
			cpu: [cpu],
			...(os === 'linux' ? { libc: [libc === 'musl' ? 'musl' : 'glibc'] } : {}),
			license: 'MIT',
			optional: true,
			os: [os]
		};
		added += 1;
	}
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional @duckdb/node-bindings entries`);
