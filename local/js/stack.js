// Starts what the workflow suites run against: the org emulator (sforg.js)
// and the named functions, built for this host in one go build and each under
// the AWS Lambda Runtime Interface Emulator, configured as a deployment's
// secret would configure them: the org's eight settings, with short retry
// waits.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, startEmulator } from './lambda.js';
import { startOrg } from './sforg.js';

/**
 * Builds the functions for this host as `make build` does for Lambda, in one
 * go build, into dir/<name>/bootstrap; resolves with the paths by name.
 */
export async function buildFunctions(names, dir) {
  const out = path.join(dir, '.bin') + path.sep;
  await promisify(execFile)(
    'go',
    ['build', '-trimpath', '-tags', 'lambda.norpc', '-o', out, ...names.map((n) => `./functions/${n}`)],
    { cwd: repoRoot, env: { ...process.env, CGO_ENABLED: '0' }, maxBuffer: 16 << 20 },
  );
  const paths = {};
  for (const name of names) {
    await mkdir(path.join(dir, name));
    paths[name] = path.join(dir, name, 'bootstrap');
    await rename(path.join(out, name), paths[name]);
  }
  return paths;
}

/**
 * Starts an org and the named functions against it; env adds to (or
 * overrides) the functions' environment. Resolves with {org, emulators, stop()}:
 * emulators by function name (each with its invoke url), stop() ends them all.
 */
export async function startStack(names, env = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'stack-js-'));
  let org;
  const emulators = {};
  const stop = async () => {
    await Promise.all(Object.values(emulators).map((e) => e.close()));
    await org?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [started, bootstraps] = await Promise.allSettled([startOrg(), buildFunctions(names, dir)]);
    if (started.status === 'fulfilled') org = started.value;
    if (started.status === 'rejected') throw started.reason;
    if (bootstraps.status === 'rejected') throw bootstraps.reason;
    const functionEnv = {
      ...org.settings,
      SALESFORCE_AUTH_FLOW: 'password',
      SALESFORCE_RETRY_BASE_DELAY: '1ms',
      SALESFORCE_RETRY_MAX_DELAY: '5ms',
      LOG_LEVEL: 'warn',
      ...env,
    };
    await Promise.all(names.map(async (name) => {
      emulators[name] = await startEmulator({ bootstrap: bootstraps.value[name], functionName: name, env: functionEnv });
    }));
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { org, emulators, stop };
}
