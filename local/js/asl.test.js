// Validates every statemachine/*.asl.json with asl-validator, both as written
// (with ${...} placeholders, as SAM reads it) and after the substitutions SAM
// performs, and checks that template.yaml provides every placeholder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import aslValidator from 'asl-validator';
import { definitionFiles, loadDefinition, placeholders, templateSubstitutions } from './statemachine.js';

const files = definitionFiles();

test('there is at least one state machine definition', () => {
  assert.ok(files.length > 0, 'no statemachine/*.asl.json found');
});

for (const file of files) {
  const name = path.basename(file);
  const text = readFileSync(file, 'utf8');

  test(`${name} is valid as written`, () => {
    const { isValid, errorsText } = aslValidator(JSON.parse(text));
    assert.ok(isValid, errorsText('\n'));
  });

  test(`${name} is valid with function ARNs substituted`, () => {
    const { isValid, errorsText } = aslValidator(loadDefinition(file));
    assert.ok(isValid, errorsText('\n'));
  });

  test(`${name}: template.yaml substitutes every placeholder`, () => {
    const used = placeholders(text);
    const provided = templateSubstitutions();
    assert.ok(used.length > 0, 'the definition uses no ${...} placeholders');
    assert.deepEqual(used.filter((p) => !provided.includes(p)), [], `provided: ${provided.join(', ')}`);
  });
}

test('asl-validator rejects a definition with a missing Next target', () => {
  const definition = loadDefinition(files[0]);
  const first = definition.States[definition.StartAt];
  first.Next = 'NoSuchState';
  const { isValid } = aslValidator(definition);
  assert.equal(isValid, false);
});
