// Runs statemachine/approve-pending.asl.json in a real Step Functions
// interpreter (aws-local-stepfunctions) whose Task states invoke the BUILT
// approval-list and approval-approve functions, each under the AWS Lambda
// Runtime Interface Emulator, against the org emulator (sforg.js): the
// pending list's paging fields drive the loop, each work item id goes to
// APPROVAL_APPROVE as contextId, and the org's approval state is read back.
import './polyfill.js';
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findEmulator, invoke, routeTasks } from './lambda.js';
import { startStack } from './stack.js';
import { definitionsDir, execute, loadDefinition } from './statemachine.js';

// Without the emulator the suite is skipped, except in CI, where a missing
// emulator must fail the build.
const missing = findEmulator() === null;
if (missing && process.env.CI) {
  throw new Error('CI is set but aws-lambda-rie is missing: run `make test` or .ci/run, which install it into ./bin');
}

/** Task state -> the function it calls (template.yaml's DefinitionSubstitutions). */
const taskFunctions = { ListPending: 'approval-list', ApproveWorkItem: 'approval-approve', CheckRemaining: 'approval-list' };
/** approval-submit makes the pending items; query reads the org's state back. */
const functionNames = ['approval-list', 'approval-approve', 'approval-submit', 'query'];

describe('approve-pending workflow on the built functions', { skip: missing && 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' }, () => {
  let stack;
  let org;
  let emulators;
  const definition = loadDefinition(path.join(definitionsDir, 'approve-pending.asl.json'));

  before(async () => {
    stack = await startStack(functionNames);
    ({ org, emulators } = stack);
  });

  after(() => stack?.stop());

  /**
   * Runs the workflow with its Tasks routed to the emulators. Resolves with
   * the output or the execution's error, the top-level states entered and
   * each Task's invocation count.
   */
  async function run(input) {
    const { calls, overrides } = routeTasks(taskFunctions, (fn) => emulators[fn].url);
    const { entered, output, error } = await execute(definition, input, overrides);
    return { calls, entered, output, error };
  }

  /** New Accounts, straight into the org; resolves with their ids. */
  async function accounts(...names) {
    const ids = await org.seed({ Account: names.map((Name) => ({ Name })) });
    return ids.Account;
  }

  /** Submits a record through APPROVAL_SUBMIT; resolves with its work item ids. */
  async function submit(recordId, nextApproverIds) {
    const out = await invoke(emulators['approval-submit'].url, { salesforcePayload: { contextId: recordId, nextApproverIds } });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return JSON.parse(out.salesforceResult)[0].newWorkitemIds;
  }

  /** The record's approval requests, read through the query function. */
  async function instances(recordId) {
    const out = await invoke(emulators.query.url, {
      salesforceQuery: `SELECT Status FROM ProcessInstance WHERE TargetObjectId = '${recordId}' ORDER BY CreatedDate`,
    });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return JSON.parse(out.salesforceResult).records.map((r) => r.Status);
  }

  /** The record's pending items, through the approval-list function. */
  async function pending(recordId) {
    const out = await invoke(emulators['approval-list'].url, { pending: true, SObjectId: recordId });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return out.totalSize;
  }

  test('approves the pending item of a record and leaves other records alone', async () => {
    const [target, other] = await accounts('Approve me', 'Leave me');
    await submit(target);
    await submit(other);
    const { calls, entered, output, error } = await run({ recordId: target, comments: 'Approved by the batch' });
    assert.equal(error, undefined, `the execution failed: ${error?.name}: ${error?.message}`);
    assert.deepEqual(entered, [
      'Start', 'ListPending', 'ListAccepted', 'ReadPage', 'ApproveEach', 'MorePages', 'CheckRemaining', 'CheckAccepted', 'Summarize', 'Done',
    ]);
    assert.deepEqual(calls, { ListPending: 1, ApproveWorkItem: 1, CheckRemaining: 1 });
    assert.deepEqual(output, { recordId: target, listed: 1, pages: 1, remaining: 0 });
    assert.deepEqual(await instances(target), ['Approved']);
    assert.deepEqual(await instances(other), ['Pending']);
    assert.equal(await pending(target), 0);
    assert.equal(await pending(other), 1);
  });

  test('a record with nothing pending: one empty page, nothing approved', async () => {
    const [idle] = await accounts('Nothing pending');
    const { calls, output, error } = await run({ recordId: idle, comments: 'n/a' });
    assert.equal(error, undefined, `the execution failed: ${error?.name}: ${error?.message}`);
    assert.deepEqual(calls, { ListPending: 1, ApproveWorkItem: 0, CheckRemaining: 1 });
    assert.deepEqual(output, { recordId: idle, listed: 0, pages: 1, remaining: 0 });
  });

  test('follows the cursor over a backlog of more than one page', async () => {
    // 250 work items on one record: the submit names the integration user as
    // next approver 250 times (the local org makes one item per entry), more
    // than the 200 a page holds. The first approval decides the request, as a
    // first-response approval does; the 249 others are no longer pending when
    // their turn comes and answer 400, which does not stop the run.
    const [target] = await accounts('Big backlog');
    const self = await approverId();
    const items = await submit(target, Array(250).fill(self));
    assert.equal(items.length, 250);
    const { calls, entered, output, error } = await run({ recordId: target, comments: 'Approved by the batch' });
    assert.equal(error, undefined, `the execution failed: ${error?.name}: ${error?.message}`);
    assert.deepEqual(calls, { ListPending: 2, ApproveWorkItem: 250, CheckRemaining: 1 });
    assert.deepEqual(output, { recordId: target, listed: 250, pages: 2, remaining: 0 });
    assert.equal(entered.filter((s) => s === 'ListPending').length, 2);
    assert.deepEqual(await instances(target), ['Approved']);
    assert.equal(await pending(target), 0);
  });

  test('catches INVALID_INPUT for a malformed record id, without retrying', async () => {
    const { calls, entered, error } = await run({ recordId: "001' OR Name != '", comments: 'x' });
    assert.deepEqual(entered, ['Start', 'ListPending', 'HandleConnectorError', 'ConnectorFailed']);
    assert.deepEqual(calls, { ListPending: 1, ApproveWorkItem: 0, CheckRemaining: 0 });
    assert.equal(error?.name, 'INVALID_INPUT');
    assert.match(error.message, /SObjectId/);
  });

  /** The integration user's id, the approver of the org's default process. */
  async function approverId() {
    const out = await invoke(emulators.query.url, {
      salesforceQuery: `SELECT Id FROM User WHERE Username = '${org.settings.SALESFORCE_USERNAME}'`,
    });
    assert.equal(out.salesforceStatus, '200', out.salesforceResult);
    return JSON.parse(out.salesforceResult).records[0].Id;
  }
});
