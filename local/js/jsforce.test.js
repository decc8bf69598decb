// Proves the local org emulator (local/sforg) against jsforce 3.10.16, a widely
// used Salesforce client: logins, records (single and sObject Collections),
// query paging, Metadata API, approvals, describe and limits, and the errors
// jsforce raises for Salesforce's failures. Everything goes through jsforce's
// public API; the emulator is steered only through its /__sforg/ admin URLs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { parseSetting, rejectsNamed, startOrg } from './sforg.js';

const version = '45.0';
const orgId = '00D5g000004XyZaEAK'; // sforg.OrgID

let org;
let creds;

/** Logs in by the OAuth 2.0 username-password flow. */
async function oauthLogin(password = creds.password) {
  const conn = new jsforce.Connection({
    loginUrl: org.url,
    oauth2: { loginUrl: org.url, clientId: creds.clientId, clientSecret: creds.clientSecret },
    version,
  });
  const userInfo = await conn.login(creds.username, password);
  return { conn, userInfo };
}

/** An 18-character Account id with a correct checksum that no record has. */
const absentAccount = '001000000000000AAA';

describe('jsforce against the local org', () => {
  let conn; // logged in by OAuth, shared by the tests that do not log in themselves

  before(async () => {
    org = await startOrg();
    const s = org.settings;
    creds = {
      clientId: s.SALESFORCE_CLIENT_ID,
      clientSecret: s.SALESFORCE_CLIENT_SECRET,
      username: s.SALESFORCE_USERNAME,
      password: s.SALESFORCE_PASSWORD + s.SALESFORCE_SECURITY_TOKEN,
    };
    ({ conn } = await oauthLogin());
  });

  after(async () => {
    await org?.stop();
  });

  describe('login', () => {
    test('OAuth 2.0 username-password flow', async () => {
      const before = await org.counters();
      const { conn: c, userInfo } = await oauthLogin();
      assert.equal(c.instanceUrl, org.url);
      assert.match(c.accessToken, new RegExp(`^${orgId.slice(0, 15)}!\\S+$`));
      assert.equal(userInfo.organizationId, orgId);
      assert.match(userInfo.id, /^005[0-9A-Za-z]{15}$/);
      assert.equal(userInfo.url, `${org.url}/id/${orgId}/${userInfo.id}`);
      const after = await org.counters();
      assert.equal(after['logins.password'], (before['logins.password'] ?? 0) + 1);
      const identity = await c.identity();
      assert.equal(identity.user_id, userInfo.id);
      assert.equal(identity.username, creds.username);
    });

    test('SOAP login() on the partner endpoint', async () => {
      const c = new jsforce.Connection({ loginUrl: org.url, version });
      const userInfo = await c.login(creds.username, creds.password);
      assert.equal(c.instanceUrl, org.url);
      assert.match(c.accessToken, new RegExp(`^${orgId.slice(0, 15)}!`));
      assert.equal(userInfo.organizationId, orgId);
      assert.match(userInfo.id, /^005/);
      const res = await c.query('SELECT Id, Username FROM User');
      assert.ok(res.records.some((u) => u.Username === creds.username));
      assert.equal((await org.counters())['requests.soap-login'] >= 1, true);
    });

    test('a bad OAuth password surfaces invalid_grant', async () => {
      const err = await rejectsNamed(oauthLogin('wrong'), 'invalid_grant');
      assert.equal(err.message, 'authentication failure');
    });

    test('a bad SOAP password surfaces the INVALID_LOGIN fault string', async () => {
      const c = new jsforce.Connection({ loginUrl: org.url, version });
      // jsforce's SOAP login throws a plain Error carrying the faultstring.
      const err = await rejectsNamed(c.login(creds.username, 'wrong'), 'Error');
      assert.equal(err.message, 'INVALID_LOGIN: Invalid username, password, security token; or user locked out.');
    });
  });

  describe('records', () => {
    test('create, retrieve, update, destroy one Account and one Contact', async () => {
      const acct = await conn.create('Account', { Name: 'Single Co', Industry: 'Energy' });
      assert.deepEqual(Object.keys(acct), ['id', 'errors', 'success']);
      assert.equal(acct.success, true);
      assert.match(acct.id, /^001[0-9A-Za-z]{15}$/);

      const contact = await conn.sobject('Contact').create({ LastName: 'Single', AccountId: acct.id });
      assert.match(contact.id, /^003/);

      const got = await conn.retrieve('Account', acct.id);
      assert.deepEqual(got.attributes, { type: 'Account', url: `/services/data/v${version}/sobjects/Account/${acct.id}` });
      assert.equal(got.Id, acct.id);
      assert.equal(got.Name, 'Single Co');
      assert.equal(got.Industry, 'Energy');

      const upd = await conn.update('Account', { Id: acct.id, Name: 'Single Co 2' });
      assert.deepEqual(upd, { id: acct.id, success: true, errors: [] }); // jsforce's answer to 204
      assert.equal((await conn.sobject('Account').retrieve(acct.id)).Name, 'Single Co 2');

      const c = await conn.retrieve('Contact', contact.id, { fields: ['LastName', 'AccountId'] });
      assert.equal(c.AccountId, acct.id);
      assert.equal(c.LastName, 'Single');

      assert.deepEqual(await conn.destroy('Contact', contact.id), { id: contact.id, success: true, errors: [] });
      assert.deepEqual(await conn.destroy('Account', acct.id), { id: acct.id, success: true, errors: [] });
      await rejectsNamed(conn.retrieve('Account', acct.id), 'ENTITY_IS_DELETED');
      await rejectsNamed(conn.destroy('Account', acct.id), 'ENTITY_IS_DELETED');
    });

    test('create, retrieve, update, destroy many through sObject Collections', async () => {
      const before = await org.counters();
      const created = await conn.create('Account', [{ Name: 'Many 1' }, { Name: 'Many 2' }, { Name: 'Many 3' }]);
      assert.equal(created.length, 3);
      for (const r of created) {
        assert.equal(r.success, true);
        assert.deepEqual(r.errors, []);
      }
      const ids = created.map((r) => r.id);

      const contacts = await conn.create('Contact', ids.map((AccountId, i) => ({ LastName: `Many ${i}`, AccountId })));
      assert.ok(contacts.every((r) => r.success && r.id.startsWith('003')));

      const got = await conn.retrieve('Account', [...ids, absentAccount]);
      assert.deepEqual(got.slice(0, 3).map((r) => r.Name), ['Many 1', 'Many 2', 'Many 3']);
      assert.equal(got[3], null);

      const updated = await conn.update('Account', ids.map((Id, i) => ({ Id, Name: `Many ${i + 1}b` })));
      assert.deepEqual(updated.map((r) => [r.id, r.success]), ids.map((id) => [id, true]));
      const names = (await conn.retrieve('Account', ids, { fields: ['Name'] })).map((r) => r.Name);
      assert.deepEqual(names, ['Many 1b', 'Many 2b', 'Many 3b']);

      const deleted = await conn.destroy('Contact', contacts.map((r) => r.id));
      assert.ok(deleted.every((r) => r.success));
      assert.ok((await conn.destroy('Account', ids)).every((r) => r.success));
      assert.deepEqual(await conn.retrieve('Account', ids, { fields: ['Name'] }), [null, null, null]);

      const after = await org.counters();
      assert.equal(after['requests.collection-create'] - (before['requests.collection-create'] ?? 0), 2);
      assert.equal(after['requests.collection-delete'] - (before['requests.collection-delete'] ?? 0), 2);
    });

    test('a failed record in a collection: partial success, or nothing with allOrNone', async () => {
      const partial = await conn.create('Account', [{ Name: 'Partial ok' }, { Industry: 'No name' }]);
      assert.equal(partial[0].success, true);
      assert.deepEqual(partial[1], {
        success: false,
        errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }],
      });

      const none = await conn.create('Account', [{ Name: 'Rolled back' }, { Industry: 'No name' }], { allOrNone: true });
      assert.deepEqual(none.map((r) => [r.success, r.errors[0].statusCode]), [
        [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
        [false, 'REQUIRED_FIELD_MISSING'],
      ]);
      const left = await conn.query("SELECT Id FROM Account WHERE Name IN ('Partial ok', 'Rolled back')");
      assert.equal(left.totalSize, 1);
      await conn.destroy('Account', partial[0].id);
    });
  });

  describe('query', () => {
    const total = 2500;

    before(async () => {
      const accounts = Array.from({ length: total }, (_, i) => ({ Name: `Paged ${String(i).padStart(4, '0')}` }));
      const ids = await org.seed({ Account: accounts });
      assert.equal(ids.Account.length, total);
    });

    test('query then queryMore until done', async () => {
      const soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Paged %'";
      const first = await conn.query(soql, { autoFetch: false });
      assert.equal(first.totalSize, total);
      assert.equal(first.done, false);
      assert.equal(first.records.length, 2000);
      // jsforce hands back an absolute URL built from the locator it read.
      assert.match(first.nextRecordsUrl, new RegExp(`^${org.url}/services/data/v${version}/query/01g[0-9A-Za-z]{15}-2000$`));
      const seen = new Set(first.records.map((r) => r.Id));
      let page = first;
      let pages = 1;
      while (!page.done) {
        page = await conn.queryMore(page.nextRecordsUrl);
        assert.equal(page.totalSize, total);
        page.records.forEach((r) => seen.add(r.Id));
        pages++;
      }
      assert.equal(pages, 2);
      assert.equal(page.nextRecordsUrl, undefined);
      assert.equal(seen.size, total);
    });

    test('the wire nextRecordsUrl is a relative path queryMore accepts', async () => {
      const raw = await conn.request(`/query?q=${encodeURIComponent("SELECT Id FROM Account WHERE Name LIKE 'Paged %'")}`);
      assert.deepEqual(Object.keys(raw), ['totalSize', 'done', 'nextRecordsUrl', 'records']);
      assert.match(raw.nextRecordsUrl, new RegExp(`^/services/data/v${version}/query/01g[0-9A-Za-z]{15}-2000$`));
      const more = await conn.queryMore(raw.nextRecordsUrl);
      assert.equal(more.done, true);
      assert.equal(more.records.length, total - 2000);
    });

    test('run with autoFetch', async () => {
      const res = await conn
        .query("SELECT Id, Name FROM Account WHERE Name LIKE 'Paged %' ORDER BY Name")
        .run({ autoFetch: true, maxFetch: 10000 });
      assert.equal(res.totalSize, total);
      assert.equal(res.done, true);
      assert.equal(res.records.length, total);
      assert.equal(res.records[0].Name, 'Paged 0000');
      assert.equal(res.records[total - 1].Name, 'Paged 2499');
    });

    test('malformed SOQL surfaces MALFORMED_QUERY', async () => {
      await rejectsNamed(conn.query('SELEC Id FROM Account'), 'MALFORMED_QUERY');
    });

    test('an unknown sObject surfaces INVALID_TYPE', async () => {
      const err = await rejectsNamed(conn.query('SELECT Id FROM Missing__c'), 'INVALID_TYPE');
      assert.match(err.message, /sObject type 'Missing__c' is not supported/);
    });

    test('an unknown field surfaces INVALID_FIELD', async () => {
      await rejectsNamed(conn.query('SELECT Id, Nope__c FROM Account'), 'INVALID_FIELD');
    });
  });

  describe('Metadata API', () => {
    const invoice = {
      fullName: 'JsInvoice__c',
      label: 'JS Invoice',
      pluralLabel: 'JS Invoices',
      nameField: { label: 'Invoice Name', type: 'Text' },
      deploymentStatus: 'Deployed',
      sharingModel: 'ReadWrite',
    };

    test('create a CustomObject, then use it through REST', async () => {
      const res = await conn.metadata.create('CustomObject', invoice);
      assert.equal(res.success, true);
      assert.equal(res.fullName, 'JsInvoice__c');

      const rec = await conn.create('JsInvoice__c', { Name: 'INV-1' });
      assert.equal(rec.success, true);
      const q = await conn.query('SELECT Id, Name FROM JsInvoice__c');
      assert.equal(q.totalSize, 1);
      assert.equal(q.records[0].Id, rec.id);
      assert.equal(q.records[0].Name, 'INV-1');
      const d = await conn.describe('JsInvoice__c');
      assert.equal(d.custom, true);
      assert.ok(d.fields.some((f) => f.name === 'Name'));
    });

    test('a duplicate fullName is a SaveResult with success false', async () => {
      const res = await conn.metadata.create('CustomObject', invoice);
      assert.equal(res.success, false);
      assert.equal(res.fullName, 'JsInvoice__c');
      const errors = [res.errors].flat();
      assert.equal(errors[0].statusCode, 'DUPLICATE_DEVELOPER_NAME');
    });
  });

  describe('approvals', () => {
    let acct;

    before(async () => {
      acct = (await conn.create('Account', { Name: 'Needs approval' })).id;
    });

    test('list the approval processes', async () => {
      const list = await conn.process.approval.list();
      assert.equal(list.Account[0].name, 'Account Approval Process');
      assert.equal(list.Account[0].object, 'Account');
      const raw = await conn.request('/process/approvals/');
      assert.deepEqual(raw.approvals, list);
    });

    test('submit then approve: Pending then Approved', async () => {
      const submitted = await conn.process.approval.submit(acct, 'please approve');
      assert.equal(submitted.success, true);
      assert.equal(submitted.instanceStatus, 'Pending');
      assert.equal(submitted.entityId, acct);
      assert.match(submitted.instanceId, /^04g/);
      // Salesforce's wire name (jsforce's TypeScript type says newWorkItemIds).
      const [workitem] = submitted.newWorkitemIds;
      assert.match(workitem, /^04i/);

      await rejectsNamed(conn.process.approval.submit(acct, 'again'), 'ALREADY_IN_PROCESS');

      const approved = await conn.process.approval.approve(workitem, 'looks good');
      assert.equal(approved.success, true);
      assert.equal(approved.instanceStatus, 'Approved');
      assert.equal(approved.instanceId, submitted.instanceId);
      assert.deepEqual(approved.newWorkitemIds, []);

      const pi = await conn.query(`SELECT Status FROM ProcessInstance WHERE Id = '${submitted.instanceId}'`);
      assert.equal(pi.records[0].Status, 'Approved');
    });

    test('submit then reject: Rejected', async () => {
      const other = (await conn.create('Account', { Name: 'Will be rejected' })).id;
      const [submitted] = await conn.process.approval.request([{ actionType: 'Submit', contextId: other, comments: 'try' }]);
      assert.equal(submitted.instanceStatus, 'Pending');
      const rejected = await conn.process.approval.reject(submitted.newWorkitemIds[0], 'no');
      assert.equal(rejected.instanceStatus, 'Rejected');
    });

    test('a record without an approval process surfaces NO_APPLICABLE_PROCESS', async () => {
      const contact = (await conn.create('Contact', { LastName: 'No process' })).id;
      await rejectsNamed(conn.process.approval.submit(contact), 'NO_APPLICABLE_PROCESS');
    });
  });

  describe('org information', () => {
    test('limits has DailyApiRequests', async () => {
      const limits = await conn.limits();
      assert.equal(typeof limits.DailyApiRequests.Max, 'number');
      assert.ok(limits.DailyApiRequests.Remaining < limits.DailyApiRequests.Max);
      assert.equal(conn.limitInfo.apiUsage.limit, limits.DailyApiRequests.Max); // from Sforce-Limit-Info
    });

    test('describe Account has fields', async () => {
      const d = await conn.describe('Account');
      assert.equal(d.name, 'Account');
      assert.equal(d.keyPrefix, '001');
      const name = d.fields.find((f) => f.name === 'Name');
      assert.equal(name.type, 'string');
      assert.equal(name.nillable, false);
    });

    test('recent records of an object, written as records', async () => {
      const id = (await conn.create('Account', { Name: 'Most recent' })).id;
      const recent = await conn.sobject('Account').recent();
      assert.deepEqual(recent[0], {
        attributes: { type: 'Account', url: `/services/data/v${version}/sobjects/Account/${id}` },
        Id: id,
        Name: 'Most recent',
      });
      assert.deepEqual(Object.keys(recent[0]), ['attributes', 'Id', 'Name']);
    });

    test('describeGlobal lists sObjects', async () => {
      const g = await conn.describeGlobal();
      const names = g.sobjects.map((o) => o.name);
      for (const name of ['Account', 'Contact', 'User']) assert.ok(names.includes(name), name);
    });
  });

  describe('errors', () => {
    test('retrieve of an absent id surfaces NOT_FOUND', async () => {
      await rejectsNamed(conn.retrieve('Account', absentAccount), 'NOT_FOUND');
    });

    test('a missing required field surfaces REQUIRED_FIELD_MISSING', async () => {
      const err = await rejectsNamed(conn.create('Account', { Industry: 'Energy' }), 'REQUIRED_FIELD_MISSING');
      assert.deepEqual(err.data.fields, ['Name']);
    });

    test('an unknown field surfaces INVALID_FIELD', async () => {
      await rejectsNamed(conn.create('Account', { Name: 'x', Nope__c: 1 }), 'INVALID_FIELD');
    });

    test('an Apex REST path the org does not map surfaces NOT_FOUND', async () => {
      const err = await rejectsNamed(conn.apex.get('/Missing/1'), 'NOT_FOUND');
      assert.equal(err.message, 'Could not find a match for URL /Missing/1');
    });

    test('an unknown sObject in a path surfaces NOT_FOUND', async () => {
      await rejectsNamed(conn.create('Nope__c', { Name: 'x' }), 'NOT_FOUND');
    });

    test('jsforce retries a GET answered 503 and not a POST', async () => {
      const id = (await conn.create('Account', { Name: 'Flaky' })).id;
      const before = await org.counters();
      await org.inject({ route: 'sobject-get', kind: 'status', status: 503, times: 1 });
      assert.equal((await conn.retrieve('Account', id)).Name, 'Flaky');
      await org.inject({ route: 'sobject-create', kind: 'status', status: 503, times: 1 });
      const err = await rejectsNamed(conn.create('Account', { Name: 'Not retried' }), 'SERVER_UNAVAILABLE');
      assert.equal(err.message, 'Server too busy');
      const after = await org.counters();
      assert.equal(after['requests.sobject-get'] - before['requests.sobject-get'], 2);
      assert.equal(after['requests.sobject-create'] - before['requests.sobject-create'], 1);
      assert.deepEqual(await org.faults(), []);
    });

    test('an expired session: a login()-made connection logs in again', async () => {
      const { conn: c } = await oauthLogin();
      const old = c.accessToken;
      const before = await org.counters();
      await org.expireSessions();
      const res = await c.query('SELECT Id FROM User');
      assert.ok(res.totalSize >= 1);
      assert.notEqual(c.accessToken, old);
      const after = await org.counters();
      assert.equal(after['logins.password'] - before['logins.password'], 1);
      assert.equal(after['requests.query'] - before['requests.query'], 2); // the 401, then the replay

      // The Metadata API's SOAP fault for a dead session triggers the same refresh.
      await org.expireSessions();
      const md = await c.metadata.create('CustomObject', {
        fullName: 'AfterExpiry__c',
        label: 'After Expiry',
        pluralLabel: 'After Expiries',
        nameField: { label: 'Name', type: 'Text' },
        deploymentStatus: 'Deployed',
        sharingModel: 'ReadWrite',
      });
      assert.equal(md.success, true);
      assert.equal((await org.counters())['logins.password'] - after['logins.password'], 1);
    });

    test('an expired session without a way to refresh surfaces INVALID_SESSION_ID', async () => {
      const { conn: c } = await oauthLogin();
      const bare = new jsforce.Connection({ instanceUrl: c.instanceUrl, accessToken: c.accessToken, version });
      assert.equal((await bare.query('SELECT Id FROM User')).done, true);
      await org.expireSessions();
      const err = await rejectsNamed(bare.query('SELECT Id FROM User'), 'INVALID_SESSION_ID');
      assert.equal(err.message, 'Session expired or invalid');
      await rejectsNamed(bare.metadata.create('CustomObject', { fullName: 'Never__c' }), 'sf:INVALID_SESSION_ID');
    });
  });
});

test('sforg.js reads the settings lines bare or shell-quoted', () => {
  assert.deepEqual(parseSetting('SALESFORCE_VERSION=45.0'), ['SALESFORCE_VERSION', '45.0']);
  assert.deepEqual(parseSetting("SALESFORCE_PASSWORD='p w$'\\''x'"), ['SALESFORCE_PASSWORD', "p w$'x"]);
  assert.deepEqual(parseSetting('SALESFORCE_PASSWORD="a\\"b"'), ['SALESFORCE_PASSWORD', 'a"b']);
  assert.deepEqual(parseSetting('SALESFORCE_SECURITY_TOKEN='), ['SALESFORCE_SECURITY_TOKEN', '']);
  assert.equal(parseSetting('sforg: listening'), null);
  assert.equal(parseSetting("SALESFORCE_PASSWORD='unterminated"), null);
});
