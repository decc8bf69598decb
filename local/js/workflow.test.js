// Runs statemachine/account-approval.asl.json in a real Step Functions
// interpreter (aws-local-stepfunctions) whose Task states invoke the BUILT
// functions, each under the AWS Lambda Runtime Interface Emulator (what
// `sam local invoke` runs), against the org emulator started by sforg.js. So
// this is the deployed path end to end, minus AWS: the definition's data flow
// and Choice rules on real outputs, and its Retry and Catch on the errorType
// each connector error really arrives with.
import './polyfill.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import { buildFunctions, findEmulator, invoke, repoRoot, startEmulator } from './lambda.js';
import { definitionsDir, loadDefinition, settle } from './statemachine.js';
import { startOrg } from './sforg.js';

// Without the emulator the suite is skipped, except in CI, where a missing
// emulator must fail the build.
const missing = findEmulator() === null;
if (missing && process.env.CI) {
  throw new Error('CI is set but aws-lambda-rie is missing: run `make test` or .ci/run, which install it into ./bin');
}

/** Task state -> the function it calls (template.yaml's DefinitionSubstitutions). */
const taskFunctions = {
  CreateAccount: 'create',
  GetAccount: 'get',
  SubmitForApproval: 'approval-submit',
  ApproveWorkItem: 'approval-approve',
};
/** The query function checks the org's state after a run, as a workflow would. */
const functionNames = [...new Set([...Object.values(taskFunctions), 'query'])];

describe('account-approval workflow on the built functions', { skip: missing && 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' }, () => {
  let org;
  let dir;
  const emulators = {};
  const definition = loadDefinition(path.join(definitionsDir, 'account-approval.asl.json'));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'workflow-js-'));
    const [started, bootstraps] = await Promise.all([startOrg(), buildFunctions(functionNames, dir)]);
    org = started;
    // The functions' configuration: the org's eight settings, as the secret
    // would hold them, and short retry waits. The breaker threshold is raised
    // so that every connector attempt reaches the org and can be counted.
    const env = {
      ...org.settings,
      SALESFORCE_AUTH_FLOW: 'password',
      SALESFORCE_RETRY_BASE_DELAY: '1ms',
      SALESFORCE_RETRY_MAX_DELAY: '5ms',
      SALESFORCE_BREAKER_FAILURES: '100',
      LOG_LEVEL: 'warn',
    };
    await Promise.all(functionNames.map(async (name) => {
      emulators[name] = await startEmulator({ bootstrap: bootstraps[name], functionName: name, env });
    }));
  });

  after(async () => {
    await Promise.all(Object.values(emulators).map((e) => e.close()));
    await org?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs the workflow with the Task states routed to the emulators. Resolves
   * with the output or the execution's error, the states entered, each Task's
   * invocation count and the exited states' outputs.
   */
  async function run(input) {
    const calls = Object.fromEntries(Object.keys(taskFunctions).map((t) => [t, 0]));
    const handlers = Object.fromEntries(Object.entries(taskFunctions).map(([task, fn]) => [task, async (event) => {
      calls[task]++;
      return invoke(emulators[fn].url, event);
    }]));
    const retryIntervalOverrides = Object.fromEntries(Object.keys(taskFunctions).map((t) => [t, 0]));
    const sm = new StateMachine(definition);
    const execution = sm.run(input, { overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides } });
    const entered = [];
    const exited = {};
    const retried = {};
    const ended = await settle(execution, (event) => {
      if (event.type === 'StateEntered') entered.push(event.state.name);
      if (event.type === 'StateExited') exited[event.state.name] = event.state.output;
      if (event.type === 'StateRetried') retried[event.state.name] = (retried[event.state.name] ?? 0) + 1;
    });
    return { calls, entered, exited, retried, ...ended };
  }

  /** Runs SOQL through the query function and resolves with the records. */
  async function query(soql) {
    const out = await invoke(emulators.query.url, { salesforceQuery: soql });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return JSON.parse(out.salesforceResult).records;
  }

  test('creates, reads, submits and approves an Account', async () => {
    const input = JSON.parse(await readFile(path.join(repoRoot, 'events', 'workflow-account-approval.json'), 'utf8'));
    const { calls, entered, output, error } = await run(input);
    assert.equal(error, undefined, `the execution failed: ${error?.name}: ${error?.message}`);
    assert.deepEqual(entered, [
      'CreateAccount', 'AccountCreated', 'GetAccount', 'AccountFound', 'SubmitForApproval', 'SubmitAccepted',
      'ApproveWorkItem', 'ApprovalDone', 'Summarize', 'Done',
    ]);
    assert.deepEqual(calls, { CreateAccount: 1, GetAccount: 1, SubmitForApproval: 1, ApproveWorkItem: 1 });
    assert.equal(output.accountName, input.account.Name);
    assert.equal(output.instanceStatus, 'Approved');
    assert.match(output.accountId, /^001[A-Za-z0-9]{15}$/);

    // What the org holds now, read back through the query function.
    const accounts = await query(`SELECT Id, Name, Industry FROM Account WHERE Id = '${output.accountId}'`);
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0].Name, input.account.Name);
    assert.equal(accounts[0].Industry, input.account.Industry);
    const instances = await query(`SELECT Id, Status FROM ProcessInstance WHERE TargetObjectId = '${output.accountId}'`);
    assert.deepEqual(instances.map((p) => [p.Id, p.Status]), [[output.instanceId, 'Approved']]);
  });

  test('catches MISSING_INPUT when the input has no account', async () => {
    const { calls, entered, exited, retried, error } = await run({ account: null });
    assert.deepEqual(entered, ['CreateAccount', 'HandleConnectorError', 'ConnectorFailed']);
    assert.equal(calls.CreateAccount, 1); // not retried: a bad input stays bad
    assert.deepEqual(retried, {});
    // The Catch path keeps the connector's code and message next to the input.
    assert.equal(exited.HandleConnectorError.error, 'MISSING_INPUT');
    assert.match(exited.HandleConnectorError.cause, /salesforcePayload is required/);
    assert.equal(error?.name, 'MISSING_INPUT');
  });

  test('stops at CreateNotAccepted when Salesforce refuses an Account without a name', async () => {
    const { calls, entered, error } = await run({ account: { Industry: 'Technology' } });
    assert.deepEqual(entered, ['CreateAccount', 'AccountCreated', 'CreateNotAccepted']);
    assert.equal(calls.GetAccount, 0);
    assert.equal(error?.name, 'CREATE_NOT_ACCEPTED');
    assert.equal(JSON.parse(error.message)[0].errorCode, 'REQUIRED_FIELD_MISSING');
  });

  test('retries 503s in the connector and in the workflow, then catches CIRCUIT_BREAKER_OPEN', async () => {
    // Every read of a record answers 503 until the fault is cleared; the
    // create before it is not affected.
    await org.inject({ route: 'sobject-get', kind: 'status', status: 503 });
    try {
      const before = (await org.counters())['requests.sobject-get'] ?? 0;
      const { calls, entered, exited, retried, error } = await run({ account: { Name: 'Unlucky Ltd' } });
      const reads = (await org.counters())['requests.sobject-get'] - before;

      assert.equal(calls.CreateAccount, 1);
      // The workflow: the first try and two retries (Retry CIRCUIT_BREAKER_OPEN, MaxAttempts 2).
      assert.equal(calls.GetAccount, 3);
      assert.equal(retried.GetAccount, 2);
      // The connector: three attempts in every invocation (SALESFORCE_MAX_ATTEMPTS default).
      assert.equal(reads, 9);
      assert.deepEqual(entered.slice(-2), ['HandleConnectorError', 'ConnectorFailed']);
      assert.equal(exited.HandleConnectorError.error, 'CIRCUIT_BREAKER_OPEN');
      assert.equal(error?.name, 'CIRCUIT_BREAKER_OPEN');
      assert.match(error.message, /503 after 3 attempts/);
    } finally {
      await org.clear();
    }
  });
});
