// Many records per API call, through jsforce 3.10.16 against the local org
// emulator (local/sforg): jsforce's array create, update, upsert and destroy
// (sObject Collections), and Composite and sObject Tree through requestPost.
// Each test also reads the org's counters to check what the work cost in API
// calls: one per collection, composite or tree request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { startOrg } from './sforg.js';

const version = '50.0'; // collection upsert needs 46.0 or later
const base = `/services/data/v${version}`;

let org;
let conn;

/** What an action cost: the growth of the named counters while it ran. */
async function cost(keys, action) {
  const before = await org.counters();
  const result = await action();
  const after = await org.counters();
  const grew = Object.fromEntries(keys.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
  return { result, grew };
}

/** Asserts that promise rejects; returns the error. */
async function rejection(promise) {
  let caught;
  await assert.rejects(Promise.resolve(promise), (err) => {
    caught = err;
    return true;
  });
  return caught;
}

describe('jsforce: many records per API call', () => {
  before(async () => {
    org = await startOrg();
    const s = org.settings;
    conn = new jsforce.Connection({
      loginUrl: org.url,
      oauth2: { loginUrl: org.url, clientId: s.SALESFORCE_CLIENT_ID, clientSecret: s.SALESFORCE_CLIENT_SECRET },
      version,
    });
    await conn.login(s.SALESFORCE_USERNAME, s.SALESFORCE_PASSWORD + s.SALESFORCE_SECURITY_TOKEN);
    const saved = await conn.metadata.create('CustomObject', {
      fullName: 'VolInvoice__c',
      label: 'Volume Invoice',
      pluralLabel: 'Volume Invoices',
      nameField: { label: 'Invoice Name', type: 'Text' },
      deploymentStatus: 'Deployed',
      sharingModel: 'ReadWrite',
      fields: [
        { fullName: 'Ext__c', label: 'External', type: 'Text', length: 40, externalId: true, unique: true },
        { fullName: 'Amount__c', label: 'Amount', type: 'Currency', precision: 16, scale: 2 },
      ],
    });
    assert.equal(saved.success, true, JSON.stringify(saved));
  });

  after(async () => {
    await org?.stop();
  });

  describe('sObject Collections', () => {
    test('array create, update and destroy are one collections call each', async () => {
      const keys = ['api-usage', 'api-calls.collections', 'api-calls.rest', 'requests.collection-create'];
      const created = await cost(keys, () => conn.sobject('Account').create([{ Name: 'Vol 1' }, { Name: 'Vol 2' }, { Name: 'Vol 3' }]));
      assert.ok(created.result.every((r) => r.success && r.id.startsWith('001')));
      assert.deepEqual(created.grew, { 'api-usage': 1, 'api-calls.collections': 1, 'api-calls.rest': 0, 'requests.collection-create': 1 });
      const ids = created.result.map((r) => r.id);

      const updated = await cost(['api-usage', 'api-calls.collections'], () =>
        conn.sobject('Account').update(ids.map((Id, i) => ({ Id, Name: `Vol ${i + 1}b` }))),
      );
      assert.deepEqual(updated.result.map((r) => [r.id, r.success]), ids.map((id) => [id, true]));
      assert.deepEqual(updated.grew, { 'api-usage': 1, 'api-calls.collections': 1 });

      const destroyed = await cost(['api-usage', 'api-calls.collections'], () => conn.sobject('Account').destroy(ids));
      assert.ok(destroyed.result.every((r) => r.success));
      assert.deepEqual(destroyed.grew, { 'api-usage': 1, 'api-calls.collections': 1 });
    });

    test('array upsert by external id: created, then updated, in one call each', async () => {
      const records = [
        { Ext__c: 'V-1', Name: 'Volume 1', Amount__c: 10 },
        { Ext__c: 'V-2', Name: 'Volume 2', Amount__c: 20 },
      ];
      const first = await cost(['api-usage', 'api-calls.collections', 'requests.collection-upsert'], () =>
        conn.sobject('VolInvoice__c').upsert(records, 'Ext__c'),
      );
      assert.deepEqual(first.result.map((r) => [r.success, r.created]), [[true, true], [true, true]]);
      assert.deepEqual(first.grew, { 'api-usage': 1, 'api-calls.collections': 1, 'requests.collection-upsert': 1 });

      const again = await conn.sobject('VolInvoice__c').upsert(records.map((r) => ({ ...r, Amount__c: r.Amount__c + 1 })), 'Ext__c');
      assert.deepEqual(again.map((r) => [r.id, r.created]), first.result.map((r) => [r.id, false]));
      const q = await conn.query("SELECT Ext__c, Amount__c FROM VolInvoice__c WHERE Ext__c IN ('V-1', 'V-2') ORDER BY Ext__c");
      assert.deepEqual(q.records.map((r) => [r.Ext__c, r.Amount__c]), [['V-1', 11], ['V-2', 21]]);
    });

    test('array upsert: per-record errors, or nothing with allOrNone', async () => {
      const partial = await conn.sobject('VolInvoice__c').upsert(
        [
          { Ext__c: 'V-3', Name: 'Twice' },
          { Ext__c: 'v-3', Name: 'Twice again' },
          { Ext__c: 'V-4', Name: 'Alone' },
        ],
        'Ext__c',
      );
      assert.deepEqual(partial.map((r) => [r.success, r.errors[0]?.statusCode]), [
        [false, 'DUPLICATE_VALUE'],
        [false, 'DUPLICATE_VALUE'],
        [true, undefined],
      ]);
      assert.equal(partial[0].errors[0].message, 'Duplicate external id specified: V-3');

      const none = await conn.sobject('VolInvoice__c').upsert(
        [
          { Ext__c: 'V-4', Name: 'Renamed' },
          { Ext__c: 'V-5', Amount__c: 1 },
        ],
        'Ext__c',
        { allOrNone: true },
      );
      assert.deepEqual(none.map((r) => [r.success, r.created, r.errors[0].statusCode]), [
        [false, false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
        [false, false, 'REQUIRED_FIELD_MISSING'],
      ]);
      const v4 = await conn.query("SELECT Name FROM VolInvoice__c WHERE Ext__c = 'V-4'");
      assert.equal(v4.records[0].Name, 'Alone');
    });

    test('a dropped answer to an upsert: the retry updates the record the first call wrote', async () => {
      await org.inject({ route: 'collection-upsert', kind: 'drop-after', times: 1 });
      const err = await rejection(conn.sobject('VolInvoice__c').upsert([{ Ext__c: 'V-6', Name: 'Dropped' }], 'Ext__c'));
      assert.ok(!err.errorCode, `a connection error, not a Salesforce error: ${err.name} ${err.message}`);
      const retry = await conn.sobject('VolInvoice__c').upsert([{ Ext__c: 'V-6', Name: 'Retried' }], 'Ext__c');
      assert.deepEqual(retry.map((r) => [r.success, r.created]), [[true, false]]);
      const q = await conn.query("SELECT Name FROM VolInvoice__c WHERE Ext__c = 'V-6'");
      assert.deepEqual(q.records.map((r) => r.Name), ['Retried']);
    });
  });

  describe('Composite', () => {
    test('references between subrequests, and the whole composite is one API call', async () => {
      const { result, grew } = await cost(['api-usage', 'api-calls.composite', 'api-calls.rest', 'requests.sobject-create'], () =>
        conn.requestPost(`${base}/composite`, {
          allOrNone: true,
          compositeRequest: [
            { method: 'POST', url: `${base}/sobjects/Account`, referenceId: 'acct', body: { Name: 'Composite Co' } },
            { method: 'POST', url: `${base}/sobjects/Contact`, referenceId: 'ct', body: { LastName: 'Doe', AccountId: '@{acct.id}' } },
            { method: 'GET', url: `${base}/query?q=SELECT+Id,AccountId+FROM+Contact+WHERE+Id='@{ct.id}'`, referenceId: 'q' },
          ],
        }),
      );
      const [acct, ct, q] = result.compositeResponse;
      assert.deepEqual([acct.httpStatusCode, ct.httpStatusCode, q.httpStatusCode], [201, 201, 200]);
      assert.deepEqual(acct.httpHeaders, { Location: `${base}/sobjects/Account/${acct.body.id}` });
      assert.equal(q.body.records[0].AccountId, acct.body.id);
      assert.deepEqual(grew, { 'api-usage': 1, 'api-calls.composite': 1, 'api-calls.rest': 0, 'requests.sobject-create': 2 });
    });

    test('an all-or-none composite that fails commits nothing', async () => {
      const res = await conn.requestPost(`${base}/composite`, {
        allOrNone: true,
        compositeRequest: [
          { method: 'POST', url: `${base}/sobjects/Account`, referenceId: 'ok', body: { Name: 'Never kept' } },
          { method: 'POST', url: `${base}/sobjects/Account`, referenceId: 'bad', body: { Industry: 'No name' } },
        ],
      });
      assert.deepEqual(
        res.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode, r.body[0].errorCode]),
        [
          ['ok', 400, 'PROCESSING_HALTED'],
          ['bad', 400, 'REQUIRED_FIELD_MISSING'],
        ],
      );
      const q = await conn.query("SELECT Id FROM Account WHERE Name = 'Never kept'");
      assert.equal(q.totalSize, 0);
    });

    test('more than 25 subrequests are refused with LIMIT_EXCEEDED', async () => {
      const compositeRequest = Array.from({ length: 26 }, (_, i) => ({
        method: 'GET',
        url: `${base}/sobjects/Account/describe`,
        referenceId: `d${i}`,
      }));
      const res = await conn.requestPost(`${base}/composite`, { compositeRequest });
      assert.deepEqual(res.compositeResponse, [
        {
          body: [{ message: 'The request can’t contain more than 25 operations.', errorCode: 'LIMIT_EXCEEDED' }],
          httpHeaders: {},
          httpStatusCode: 400,
          referenceId: null,
        },
      ]);
    });
  });

  describe('sObject Tree', () => {
    test('an Account with its Contacts in one call', async () => {
      const { result, grew } = await cost(['api-usage', 'api-calls.composite'], () =>
        conn.requestPost(`${base}/composite/tree/Account`, {
          records: [
            {
              attributes: { type: 'Account', referenceId: 'a1' },
              Name: 'Tree Co',
              Contacts: { records: [{ attributes: { type: 'Contact', referenceId: 'c1' }, LastName: 'Leaf' }] },
            },
          ],
        }),
      );
      assert.equal(result.hasErrors, false);
      assert.deepEqual(result.results.map((r) => r.referenceId), ['a1', 'c1']);
      const c = await conn.retrieve('Contact', result.results[1].id, { fields: ['AccountId'] });
      assert.equal(c.AccountId, result.results[0].id);
      assert.deepEqual(grew, { 'api-usage': 1, 'api-calls.composite': 1 });
    });
  });
});
