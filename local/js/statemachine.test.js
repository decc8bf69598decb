// Runs statemachine/account-approval.asl.json in a real Step Functions
// interpreter (aws-local-stepfunctions) with in-process stand-ins for the four
// functions. The stand-ins return the connector's output shape around
// Salesforce-shaped bodies, or throw the connector's error codes, so these
// tests pin the definition's data flow (StringToJson, the work item id), its
// Choice rules and its Retry and Catch wiring. The same definition against the
// real functions under the Runtime Interface Emulator is the workflow test's job.
import './polyfill.js';
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import { LambdaError } from './lambda.js';
import { definitionsDir, loadDefinition, settle } from './statemachine.js';

const definition = loadDefinition(path.join(definitionsDir, 'account-approval.asl.json'));
const tasks = ['CreateAccount', 'GetAccount', 'SubmitForApproval', 'ApproveWorkItem'];

const accountId = '001Dn00000AbCdEIAV';
const workitemId = '04iDn0000001XyZIAU';
const instanceId = '04gDn0000002QrSIAU';

// Salesforce-shaped bodies, wrapped as the connector returns them.
const out = (status, body) => ({ salesforceStatus: status, salesforceResult: JSON.stringify(body) });
const created = () => out('201', { id: accountId, success: true, errors: [] });
const fetched = (input) => out('200', {
  attributes: { type: 'Account', url: `/services/data/v45.0/sobjects/Account/${input.SObjectId}` },
  Id: input.SObjectId,
  Name: 'Acme',
});
const processResult = (status, workitems, actor = null) => out('200', [{
  actorIds: actor ? [actor] : null,
  entityId: accountId,
  errors: null,
  instanceId,
  instanceStatus: status,
  newWorkitemIds: workitems,
  success: true,
}]);

// stubs returns call-recording handlers; each behaviour is a function of the
// call number (1-based) and the Task input.
function stubs(behaviour) {
  const calls = Object.fromEntries(tasks.map((t) => [t, []]));
  const defaults = {
    CreateAccount: () => created(),
    GetAccount: (_, input) => fetched(input),
    SubmitForApproval: () => processResult('Pending', [workitemId], '005Dn000001AbCdIAK'),
    ApproveWorkItem: () => processResult('Approved', []),
  };
  const handlers = {};
  for (const task of tasks) {
    const fn = behaviour[task] ?? defaults[task];
    handlers[task] = async (input) => {
      calls[task].push(input);
      return fn(calls[task].length, input);
    };
  }
  return { calls, handlers };
}

async function run(behaviour = {}, input = { account: { Name: 'Acme', Industry: 'Technology' } }) {
  const { calls, handlers } = stubs(behaviour);
  const sm = new StateMachine(definition);
  const retryIntervalOverrides = Object.fromEntries(tasks.map((t) => [t, 0]));
  const execution = sm.run(input, { overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides } });
  const entered = [];
  const ended = await settle(execution, (event) => {
    if (event.type === 'StateEntered') entered.push(event.state.name);
  });
  return { calls, entered, ...ended };
}

const fail = (code) => () => {
  throw new LambdaError(code, `simulated ${code}`);
};

describe('account-approval workflow', () => {
  test('creates, reads, submits and approves', async () => {
    const { calls, entered, output, error } = await run();
    assert.equal(error, undefined);
    assert.deepEqual(entered, [
      'CreateAccount', 'AccountCreated', 'GetAccount', 'AccountFound', 'SubmitForApproval', 'SubmitAccepted',
      'ApproveWorkItem', 'ApprovalDone', 'Summarize', 'Done',
    ]);
    assert.deepEqual(output, { accountId, accountName: 'Acme', instanceId, instanceStatus: 'Approved' });
    assert.deepEqual(calls.CreateAccount, [{ SObjectName: 'Account', salesforcePayload: { Name: 'Acme', Industry: 'Technology' } }]);
    assert.deepEqual(calls.GetAccount, [{ SObjectName: 'Account', SObjectId: accountId }]);
    assert.equal(calls.SubmitForApproval.length, 1);
    assert.equal(calls.SubmitForApproval[0].salesforcePayload.contextId, accountId);
    assert.equal(calls.ApproveWorkItem.length, 1);
    assert.equal(calls.ApproveWorkItem[0].salesforcePayload.contextId, workitemId);
  });

  test('approves each step of a multi-step approval process', async () => {
    const secondWorkitem = '04iDn0000001XzAIAU';
    const { calls, output } = await run({
      ApproveWorkItem: (n) => (n === 1 ? processResult('Pending', [secondWorkitem]) : processResult('Approved', [])),
    });
    assert.equal(output?.instanceStatus, 'Approved');
    assert.deepEqual(calls.ApproveWorkItem.map((i) => i.salesforcePayload.contextId), [workitemId, secondWorkitem]);
  });

  test('fails with Salesforce\'s error array when the create is refused', async () => {
    const refusal = [{ message: 'Required fields are missing: [Name]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }];
    const { calls, error } = await run({ CreateAccount: () => out('400', refusal) });
    assert.equal(error?.name, 'CREATE_NOT_ACCEPTED');
    assert.deepEqual(JSON.parse(error.message), refusal);
    assert.equal(calls.GetAccount.length, 0);
  });

  test('fails when the new Account cannot be read back', async () => {
    const notFound = [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }];
    const { calls, error } = await run({ GetAccount: () => out('404', notFound) });
    assert.equal(error?.name, 'ACCOUNT_NOT_FOUND');
    assert.deepEqual(JSON.parse(error.message), notFound);
    assert.equal(calls.SubmitForApproval.length, 0);
  });

  test('fails when the submit leaves no pending work item', async () => {
    const { calls, error } = await run({ SubmitForApproval: () => processResult('Approved', []) });
    assert.equal(error?.name, 'SUBMIT_NOT_ACCEPTED');
    assert.equal(calls.ApproveWorkItem.length, 0);
  });

  test('fails when the submit answers with another status', async () => {
    const { calls, error } = await run({ SubmitForApproval: () => ({ ...processResult('Pending', [workitemId]), salesforceStatus: '201' }) });
    assert.equal(error?.name, 'SUBMIT_NOT_ACCEPTED');
    assert.equal(calls.ApproveWorkItem.length, 0);
  });

  test('fails when the approval is not reported as Approved', async () => {
    const { error } = await run({ ApproveWorkItem: () => processResult('Rejected', []) });
    assert.equal(error?.name, 'APPROVAL_NOT_ACCEPTED');
  });

  test('retries GetAccount on CONNECTION_ERROR and REQUEST_TIMEOUT', async () => {
    const { calls, output } = await run({
      GetAccount: (n, input) => {
        if (n === 1) fail('CONNECTION_ERROR')();
        if (n === 2) fail('REQUEST_TIMEOUT')();
        return fetched(input);
      },
    });
    assert.equal(output?.instanceStatus, 'Approved');
    assert.equal(calls.GetAccount.length, 3);
  });

  test('does not retry CreateAccount on REQUEST_TIMEOUT: the Account may exist', async () => {
    const { calls, entered, error } = await run({ CreateAccount: fail('REQUEST_TIMEOUT') });
    assert.equal(calls.CreateAccount.length, 1);
    assert.deepEqual(entered, ['CreateAccount']);
    assert.equal(error?.name, 'REQUEST_TIMEOUT'); // not caught: the workflow fails with it
  });

  test('retries CreateAccount on CONNECTION_ERROR: Salesforce was never reached', async () => {
    const { calls, output } = await run({
      CreateAccount: (n, input) => (n === 1 ? fail('CONNECTION_ERROR')() : created(input)),
    });
    assert.equal(output?.instanceStatus, 'Approved');
    assert.equal(calls.CreateAccount.length, 2);
  });

  const caught = [
    ['CreateAccount', 'MISSING_TOKEN', 1],
    ['CreateAccount', 'INVALID_INPUT', 1],
    ['GetAccount', 'MISSING_INPUT', 1],
    ['SubmitForApproval', 'CIRCUIT_BREAKER_OPEN', 3], // retried twice first
    ['ApproveWorkItem', 'INVALID_INPUT', 1],
  ];
  for (const [task, code, attempts] of caught) {
    test(`catches ${code} from ${task} and fails with it`, async () => {
      const { calls, entered, error } = await run({ [task]: fail(code) });
      assert.equal(calls[task].length, attempts);
      assert.deepEqual(entered.slice(-2), ['HandleConnectorError', 'ConnectorFailed']);
      assert.ok(error, 'the execution succeeded, want a failure');
      assert.equal(error.name, code);
      assert.equal(error.message, `simulated ${code}`);
    });
  }

  test('lets UNKNOWN_ERROR fail the execution without retries', async () => {
    const { calls, entered, error } = await run({ GetAccount: fail('UNKNOWN_ERROR') });
    assert.equal(calls.GetAccount.length, 1);
    assert.equal(entered.includes('HandleConnectorError'), false);
    assert.equal(error?.name, 'UNKNOWN_ERROR');
    assert.equal(calls.SubmitForApproval.length, 0);
  });
});
