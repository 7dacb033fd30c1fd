import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/lib.sh keeps tools built once (SWF_SIDECAR_CACHE). */
export const TOOL_CACHE =
  process.env['SWF_SIDECAR_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'swf-sidecar');

let recorded: Map<string, string> | undefined;

/**
 * A variable a scripts/setup/*.sh exported (a tool's path, say): from the environment when
 * scripts/test.sh runs the tests, else from what its last run recorded in the cache
 * (test-tools.env), so `npm test` works on its own after one `bash scripts/test.sh`.
 */
export function toolVariable(name: string): string | undefined {
  const fromEnvironment = process.env[name];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  if (recorded === undefined) {
    const file = join(TOOL_CACHE, 'test-tools.env');
    recorded = new Map(
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => line.includes('='))
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const)
        : [],
    );
  }
  return recorded.get(name);
}
