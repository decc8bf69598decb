// A workflow that retries a whole Task: statemachine/account-approval.asl.json
// in the Step Functions interpreter, its Tasks invoking the BUILT functions
// under the Runtime Interface Emulator against the org emulator. The create's
// first invocation gets no answer before its deadline (REQUEST_TIMEOUT) while
// the org still makes the Account; the workflow's Retry runs the Task again
// with the same idempotency key, and the org ends with one Account. No ledger:
// Salesforce's own Idempotency-Key (API 56.0 and later) protects the create.
import './polyfill.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { buildFunctions, findEmulator, invoke, startEmulator } from './lambda.js';
import { accountApprovalTasks, definitionsDir, loadDefinition } from './statemachine.js';
import { startOrg } from './sforg.js';

const missing = findEmulator() === null;
if (missing && process.env.CI) {
  throw new Error('CI is set but aws-lambda-rie is missing: run `make test` or .ci/run, which install it into ./bin');
}

const taskFunctions = accountApprovalTasks;
const functionNames = [...new Set([...Object.values(taskFunctions), 'query'])];

describe('a whole Task retried with its idempotency key', { skip: missing && 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' }, () => {
  let org;
  let dir;
  const emulators = {};
  const definition = loadDefinition(path.join(definitionsDir, 'account-approval.asl.json'));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'idempotency-js-'));
    const [started, bootstraps] = await Promise.all([startOrg(), buildFunctions(functionNames, dir)]);
    org = started;
    const env = {
      ...org.settings,
      SALESFORCE_VERSION: '66.0', // Idempotency-Key on UI API writes: 56.0 and later
      SALESFORCE_AUTH_FLOW: 'password',
      SALESFORCE_RETRY_BASE_DELAY: '1ms',
      SALESFORCE_RETRY_MAX_DELAY: '5ms',
      LOG_LEVEL: 'warn',
    };
    await Promise.all(functionNames.map(async (name) => {
      // The create has 2 seconds, so that its first invocation answers
      // REQUEST_TIMEOUT while the org is still on its way to the Account.
      const timeoutSeconds = name === 'create' ? 2 : 30;
      emulators[name] = await startEmulator({ bootstrap: bootstraps[name], functionName: name, env, timeoutSeconds });
    }));
  });

  after(async () => {
    await Promise.all(Object.values(emulators).map((e) => e.close()));
    await org?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function run(input, executionId) {
    const calls = Object.fromEntries(Object.keys(taskFunctions).map((t) => [t, 0]));
    const failures = [];
    const handlers = Object.fromEntries(Object.entries(taskFunctions).map(([task, fn]) => [task, async (event) => {
      calls[task]++;
      try {
        return await invoke(emulators[fn].url, event);
      } catch (err) {
        failures.push(`${task}: ${err.name}: ${err.message}`);
        throw err;
      }
    }]));
    const retryIntervalOverrides = Object.fromEntries(Object.keys(taskFunctions).map((t) => [t, 0]));
    const context = { Execution: { Id: executionId, Name: executionId.split(':').pop() } };
    const execution = new StateMachine(definition).run(input, { context, overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides } });
    try {
      return { calls, failures, output: await execution.result };
    } catch (err) {
      if (!(err instanceof ExecutionError)) throw err;
      return { calls, failures, error: err.cause };
    }
  }

  async function accountsNamed(name) {
    const out = await invoke(emulators.query.url, { salesforceQuery: `SELECT Id FROM Account WHERE Name = '${name}'` });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return JSON.parse(out.salesforceResult).records.map((r) => r.Id);
  }

  test('a create retried after REQUEST_TIMEOUT makes one Account', async () => {
    const name = `Retried Task ${process.pid}`;
    // The first create waits 3 s in the org before it is done: longer than
    // the function's 2 s. The fault hits that one request only.
    await org.inject({ route: 'uiapi-record-create', kind: 'latency', delay: '3s', times: 1 });
    try {
      const { calls, failures, output, error } = await run(
        { account: { Name: name, Industry: 'Energy' } },
        `arn:aws:states:us-east-1:123456789012:execution:AccountApproval:retried-${process.pid}`,
      );
      assert.equal(error, undefined, `the execution failed: ${error?.name}: ${error?.message}`);
      assert.equal(output.accountName, name);
      assert.ok(calls.CreateAccount >= 2, `got ${calls.CreateAccount} CreateAccount invocations, want a retry`);
      assert.match(failures[0] ?? '', /^CreateAccount: REQUEST_TIMEOUT: /);
      // The first request is still waiting in the org, and answers nobody
      // when it is done. Every REST request counts against the API usage
      // only once its wait is over: when the usage has caught up with the
      // requests, it has run.
      await waitFor(async () => {
        const c = await org.counters();
        const rest = ['uiapi-record-create', 'sobject-get', 'approvals', 'query'].reduce((n, r) => n + (c[`requests.${r}`] ?? 0), 0);
        return c['api-usage'] === rest;
      });
      assert.deepEqual(await accountsNamed(name), [output.accountId]);
    } finally {
      await org.clear();
    }
  });
});

/** Polls check until it resolves true (the test's timeout bounds it). */
async function waitFor(check) {
  for (;;) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
