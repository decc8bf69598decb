// Helpers that let a Step Functions interpreter call the connector's Lambda
// functions the way AWS does: each function runs under the AWS Lambda Runtime
// Interface Emulator (what `sam local invoke` runs in its container), and a
// function error becomes a thrown Error whose `name` is the Lambda errorType,
// which is what Retry and Catch match with ErrorEquals.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (two levels above this file). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The emulator's one invoke endpoint; the function name in it is fixed. */
const invokePath = '/2015-03-31/functions/function/invocations';

/** A function error, named after its errorType so ErrorEquals can match it. */
export class LambdaError extends Error {
  constructor(errorType, message) {
    super(message);
    this.name = errorType;
    this.errorType = errorType;
  }
}

// One promise chain per endpoint: the emulator crashes when a second invoke
// arrives while one is running, and Parallel or Map states would do just that.
const queues = new Map();

/**
 * POSTs event to an emulator's invoke URL and resolves with the function's
 * result. Rejects with a LambdaError named after the errorType for a function
 * error, "States.Timeout" when the function outlived its timeout, and
 * "Lambda.Unknown" for an answer that is neither.
 */
export function invoke(url, event, { signal } = {}) {
  const previous = queues.get(url) ?? Promise.resolve();
  const current = previous.then(() => post(url, event, signal));
  queues.set(url, current.catch(() => {}));
  return current;
}

/** Returns a Task state handler (for taskResourceLocalHandlers) that invokes url. */
export function handler(url) {
  return (input) => invoke(url, input);
}

/**
 * Routes Task states to functions for a Step Functions run: tasks maps a Task
 * state's name to a function name, urlOf a function name to its emulator's
 * invoke URL. Returns the run overrides (the handlers, and no wait between
 * retries) and the invocations per Task, which the handlers count.
 */
export function routeTasks(tasks, urlOf) {
  const calls = Object.fromEntries(Object.keys(tasks).map((task) => [task, 0]));
  const taskResourceLocalHandlers = Object.fromEntries(Object.entries(tasks).map(([task, fn]) => [task, (event) => {
    calls[task]++;
    return invoke(urlOf(fn), event);
  }]));
  const retryIntervalOverrides = Object.fromEntries(Object.keys(tasks).map((task) => [task, 0]));
  return { calls, overrides: { taskResourceLocalHandlers, retryIntervalOverrides } };
}

async function post(url, event, signal) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event ?? {}),
    signal,
  });
  const text = await res.text();
  // The emulator reports a timeout in plain text. Step Functions' own name for
  // a Task that ran too long is States.Timeout, which Retry and Catch know.
  if (text.startsWith('Task timed out')) {
    throw new LambdaError('States.Timeout', text);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LambdaError('Lambda.Unknown', `status ${res.status}: ${text.slice(0, 200)}`);
  }
  if (body !== null && typeof body === 'object' && typeof body.errorType === 'string') {
    throw new LambdaError(body.errorType, body.errorMessage ?? '');
  }
  if (!res.ok) {
    throw new LambdaError('Lambda.Unknown', `status ${res.status}: ${text.slice(0, 200)}`);
  }
  return body;
}

/**
 * Returns the emulator binary: $AWS_LAMBDA_RIE, <repo>/bin/aws-lambda-rie, or
 * aws-lambda-rie on PATH; null when there is none.
 */
export function findEmulator() {
  const candidates = [
    process.env.AWS_LAMBDA_RIE,
    path.join(repoRoot, 'bin', 'aws-lambda-rie'),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'aws-lambda-rie')),
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

/**
 * Builds the named functions for this host as `make build` does for Lambda,
 * in one go build, into dir/<name>/bootstrap; resolves with the paths by name.
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
 * Compiles a function package for the host, as `make build` does for Lambda,
 * into dir/bootstrap. pkg is relative to the repository root ("./functions/get").
 */
export async function buildFunction(pkg, dir) {
  const out = path.join(dir, 'bootstrap');
  await promisify(execFile)('go', ['build', '-trimpath', '-tags', 'lambda.norpc', '-o', out, pkg], {
    cwd: repoRoot,
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  return out;
}

/**
 * Starts the emulator for one bootstrap on free loopback ports and resolves
 * once it answers. The function sees only `env` plus the AWS_LAMBDA_* variables
 * Lambda sets, PATH, TZ and a region, as in a container.
 *
 * Resolves with {url, output(), close()}: url is the invoke endpoint, output()
 * the emulator's and function's logs so far, close() stops both.
 */
export async function startEmulator({ bootstrap, env = {}, timeoutSeconds = 30, memoryMB = 128, functionName, binary } = {}) {
  const rie = binary ?? findEmulator();
  if (!rie) {
    throw new Error('aws-lambda-rie not found: set AWS_LAMBDA_RIE or run `make test` once to install it into ./bin');
  }
  const abs = path.resolve(bootstrap);
  const childEnv = {
    PATH: process.env.PATH ?? '',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_NAME: functionName ?? path.basename(path.dirname(abs)),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(timeoutSeconds),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMB),
    ...env,
  };
  delete childEnv.AWS_LAMBDA_MAX_CONCURRENCY; // makes the emulator ignore the bootstrap
  // Ports are picked by binding and releasing them; if another process takes
  // one in between, the emulator exits at once and we try again.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(rie, abs, childEnv);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(rie, bootstrap, env) {
  const [emulatorPort, runtimePort] = await freePorts(2);
  const child = spawn(
    rie,
    ['--runtime-interface-emulator-address', `127.0.0.1:${emulatorPort}`, '--runtime-api-address', `127.0.0.1:${runtimePort}`, bootstrap],
    { cwd: path.dirname(bootstrap), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('close', resolve));
  let running = true;
  exited.then(() => (running = false));

  const close = async () => {
    if (running) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the group: the emulator and the function it forked
      } catch {
        // already gone
      }
    }
    await exited;
  };

  const base = `http://127.0.0.1:${emulatorPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running) {
      throw new Error(`aws-lambda-rie exited during start-up:\n${output}`);
    }
    try {
      // A path the emulator answers with 404 without starting the function.
      const res = await fetch(`${base}/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`aws-lambda-rie did not answer:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { url: base + invokePath, output: () => output, close };
}

export function freePorts(n) {
  const servers = Array.from({ length: n }, () => createServer());
  return Promise.all(
    servers.map((server) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server.address().port));
    })),
  ).finally(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));
}
