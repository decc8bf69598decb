// Runs the Go test function in local/rie/testdata/fn under the real Runtime
// Interface Emulator and checks what a state machine sees through lambda.js:
// results, errors named after their errorType, timeouts, queued invokes, and
// Catch matching those names in aws-local-stepfunctions.
import './polyfill.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { buildFunction, findEmulator, handler, invoke, LambdaError, startEmulator } from './lambda.js';

// Without the emulator the suite is skipped, except in CI, where a missing
// emulator must fail the build.
const missing = findEmulator() === null;
if (missing && process.env.CI) {
  throw new Error('CI is set but aws-lambda-rie is missing: run `make test` or .ci/run, which install it into ./bin');
}

describe('lambda.js against aws-lambda-rie', { skip: missing && 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' }, () => {
  let dir;
  let bootstrap;
  let emulator;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lambda-js-'));
    bootstrap = await buildFunction('./local/rie/testdata/fn', dir);
    emulator = await startEmulator({ bootstrap, env: { RIE_TEST_MARKER: 'js' } });
  });

  after(async () => {
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('returns the function result', async () => {
    assert.deepEqual(await invoke(emulator.url, { name: 'Acme' }), { hello: 'Acme' });
  });

  test('passes the configured environment and nothing else', async () => {
    assert.deepEqual(await invoke(emulator.url, { mode: 'env', name: 'RIE_TEST_MARKER' }), { env: 'js' });
    assert.deepEqual(await invoke(emulator.url, { mode: 'env', name: 'HOME' }), {});
  });

  test('throws an Error named after the errorType', async () => {
    await assert.rejects(invoke(emulator.url, { mode: 'fail' }), (err) => {
      assert.ok(err instanceof LambdaError);
      assert.equal(err.name, 'MISSING_INPUT');
      assert.equal(err.message, 'name is required');
      return true;
    });
  });

  test('queues concurrent invokes instead of crashing the emulator', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `n${i}`);
    const results = await Promise.all(names.map((name) => invoke(emulator.url, { name })));
    assert.deepEqual(results.map((r) => r.hello), names);
  });

  test('reports a function timeout as States.Timeout', async () => {
    const short = await startEmulator({ bootstrap, timeoutSeconds: 1 });
    try {
      await assert.rejects(invoke(short.url, { mode: 'sleep' }), { name: 'States.Timeout' });
    } finally {
      await short.close();
    }
  });

  test('lets a state machine Catch on the errorType', async () => {
    const definition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
          Catch: [{ ErrorEquals: ['MISSING_INPUT'], ResultPath: '$.error', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    const sm = new StateMachine(definition);
    const run = (input) => sm.run(input, { overrides: { taskResourceLocalHandlers: { Call: handler(emulator.url) } } }).result;

    assert.deepEqual(await run({ name: 'ok' }), { hello: 'ok' });
    const caught = await run({ mode: 'fail' });
    assert.equal(caught.error.Error, 'MISSING_INPUT');
    assert.equal(caught.error.Cause, 'name is required');
  });

  test('fails the execution with an uncaught errorType', async () => {
    const sm = new StateMachine({
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:fn', End: true } },
    });
    const execution = sm.run({ mode: 'panic' }, { overrides: { taskResourceLocalHandlers: { Call: handler(emulator.url) } } });
    await assert.rejects(execution.result, (err) => {
      assert.ok(err instanceof ExecutionError);
      assert.equal(err.cause.name, 'string'); // aws-lambda-go names a panic's value type
      return true;
    });
  });
});
