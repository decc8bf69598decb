// Starts what the workflow suites run against: the org emulator (sforg.js)
// and the named functions, built for this host in one go build and each under
// the AWS Lambda Runtime Interface Emulator, configured as a deployment's
// secret would configure them: the org's eight settings, with short retry
// waits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFunctions, startEmulator } from './lambda.js';
import { startOrg } from './sforg.js';

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
