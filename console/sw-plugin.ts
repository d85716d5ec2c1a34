// Writes dist/sw.js: the service worker that keeps the app shell (index.html and every built
// asset) for offline use. The list and the cache name come from the bundle's content-hashed
// names, so identical builds give an identical worker.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

export function serviceWorker(template: string, publicDir = 'public'): Plugin {
  return {
    name: 'adal-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((f) => f !== 'index.html' && f !== 'sw.js')
        .sort();
      const statics = readdirSync(publicDir).sort();
      const shell = ['/', ...statics.map((f) => `/${f}`), ...files.map((f) => `/${f}`)];
      const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 16);
      const source = readFileSync(template, 'utf8')
        .replace('__SHELL__', JSON.stringify(shell))
        .replace('__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}
