// Keeps template.yaml, the Makefile, functions/ and events/ in step: every
// function directory is deployed, built by `sam build` through its
// build-<LogicalId> target, exported in Outputs and has a sample event.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './lambda.js';

const template = readFileSync(path.join(repoRoot, 'template.yaml'), 'utf8');
const makefile = readFileSync(path.join(repoRoot, 'Makefile'), 'utf8');

// Logical ids of the template's AWS::Serverless::Function resources.
const lines = template.split('\n');
const templateFunctions = lines
  .map((line, i) => [/^ {2}([A-Za-z0-9]+):\s*$/.exec(line), lines[i + 1] ?? ''])
  .filter(([m, next]) => m && /^ {4}Type: AWS::Serverless::Function\s*$/.test(next))
  .map(([m]) => m[1])
  .sort();

// functions/approval-submit -> ApprovalSubmitFunction
const logicalId = (dir) => dir.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('') + 'Function';

const functionDirs = readdirSync(path.join(repoRoot, 'functions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(repoRoot, 'functions', d.name, 'main.go')))
  .map((d) => d.name)
  .sort();

test('template.yaml declares one function per functions/<name>/main.go', () => {
  assert.ok(templateFunctions.length > 0, 'no AWS::Serverless::Function found in template.yaml');
  assert.deepEqual(templateFunctions, functionDirs.map(logicalId).sort());
});

for (const dir of functionDirs) {
  const id = logicalId(dir);

  test(`${id}: sam build has a Makefile target that builds functions/${dir}`, () => {
    const m = new RegExp(`^build-${id}:.*sam_artifact,(.+)\\)\\s*$`, 'm').exec(makefile);
    assert.ok(m, `no build-${id} target in the Makefile`);
    assert.equal(m[1], dir);
  });

  test(`${id}: Outputs export its ARN`, () => {
    assert.match(template, new RegExp(`^ {2}${id}Arn:\\n(?: {4}.*\\n)*? {4}Value: !GetAtt ${id}\\.Arn$`, 'm'));
  });

  test(`${id}: events/${dir}.json is a JSON object`, () => {
    const event = JSON.parse(readFileSync(path.join(repoRoot, 'events', `${dir}.json`), 'utf8'));
    assert.equal(typeof event, 'object');
    assert.ok(event !== null && !Array.isArray(event));
  });
}

test('EventBridge samples carry the full envelope', () => {
  const files = readdirSync(path.join(repoRoot, 'events')).filter((f) => f.startsWith('eventbridge-'));
  assert.ok(files.length >= 3, `got ${files.length} EventBridge samples, want at least 3`);
  for (const file of files) {
    const event = JSON.parse(readFileSync(path.join(repoRoot, 'events', file), 'utf8'));
    for (const key of ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']) {
      assert.ok(key in event, `${file}: missing ${key}`);
    }
  }
});
