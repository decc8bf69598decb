// Loads the state machine definitions in statemachine/ the way SAM deploys
// them: every ${Name} placeholder replaced through DefinitionSubstitutions.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { repoRoot } from './lambda.js';

export const definitionsDir = path.join(repoRoot, 'statemachine');

/**
 * The Task states of account-approval.asl.json and the function each calls
 * (template.yaml's DefinitionSubstitutions).
 */
export const accountApprovalTasks = {
  CreateAccount: 'create',
  GetAccount: 'get',
  SubmitForApproval: 'approval-submit',
  ApproveWorkItem: 'approval-approve',
};

/** Returns the paths of every statemachine/*.asl.json. */
export function definitionFiles() {
  return readdirSync(definitionsDir)
    .filter((name) => name.endsWith('.asl.json'))
    .sort()
    .map((name) => path.join(definitionsDir, name));
}

/** Returns the ${Name} placeholders a definition's text uses, sorted. */
export function placeholders(text) {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))].sort();
}

/**
 * Returns the keys of every DefinitionSubstitutions block in template.yaml.
 * The template uses CloudFormation tags (!GetAtt, !Sub) that a plain YAML
 * parser rejects, so the block is read by indentation.
 */
export function templateSubstitutions(file = path.join(repoRoot, 'template.yaml')) {
  const keys = new Set();
  let blockIndent = -1;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (/^\s*DefinitionSubstitutions:\s*$/.test(line)) {
      blockIndent = indent;
      continue;
    }
    if (blockIndent < 0 || line.trim() === '' || line.trim().startsWith('#')) continue;
    if (indent <= blockIndent) {
      blockIndent = -1;
      continue;
    }
    const m = /^\s*([A-Za-z0-9]+):/.exec(line);
    if (m) keys.add(m[1]);
  }
  return [...keys].sort();
}

/** A function ARN of the shape Step Functions would see after deployment. */
export function fakeFunctionArn(placeholder) {
  const name = placeholder.replace(/Arn$/, '');
  return `arn:aws:lambda:us-east-1:123456789012:function:sfconnect-${name}`;
}

/**
 * Reads a definition and replaces each ${Name} with values[Name], or with a
 * realistic Lambda ARN when no value is given.
 */
export function loadDefinition(file, values = {}) {
  const text = readFileSync(file, 'utf8');
  return JSON.parse(text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name) => values[name] ?? fakeFunctionArn(name)));
}

/**
 * Waits for an execution of aws-local-stepfunctions to end. Resolves with
 * {output}, or {error} (the failure's cause: its name is the error, as
 * Catch sees it) when the execution failed; onEvent sees every event of the
 * execution's log before.
 */
export async function settle(execution, onEvent = () => {}) {
  const logged = (async () => {
    for await (const event of execution.eventLogs) onEvent(event);
  })();
  try {
    return { output: await execution.result };
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    return { error: err.cause };
  } finally {
    await logged;
  }
}

/**
 * Runs a definition in the interpreter with run overrides (Task handlers,
 * retry intervals) and an optional context object ($$), and resolves with
 * what happened, a failed execution included: the output or the execution's
 * error, the top-level states entered in order (not those inside a Map or
 * Parallel), each exited state's output and the retries per state. Load
 * polyfill.js first on Node 20.
 */
export async function execute(definition, input, overrides, context) {
  const execution = new StateMachine(definition).run(input, { overrides, context });
  const entered = [];
  const exited = {};
  const retried = {};
  const ended = await settle(execution, (event) => {
    if (event.index !== undefined) return; // an iteration of a Map or a Parallel branch
    if (event.type === 'StateEntered') entered.push(event.state.name);
    if (event.type === 'StateExited') exited[event.state.name] = event.state.output;
    if (event.type === 'StateRetried') retried[event.state.name] = (retried[event.state.name] ?? 0) + 1;
  });
  return { entered, exited, retried, ...ended };
}
