import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliSkeleton, readCliInputJson } from '../../src/cli/cli-input-json.js';
import { EXIT, exitCodeForStatus } from '../../src/cli/exit-codes.js';
import { parseRespondArgs, UsageError } from '../../src/cli/respond-args.js';

describe('parseRespondArgs', () => {
  test('takes --name value and --name=value; the last occurrence wins', () => {
    const args = parseRespondArgs([
      '--task-token',
      't1',
      '--reason=why',
      '--details',
      'a b',
      '--task-token=t2',
      '--endpoint',
      'unix:/run/s.sock',
      '--delivery',
      'QUEUED',
      '--timeout',
      '2.5',
    ]);
    assert.equal(args.taskToken, 't2');
    assert.equal(args.reason, 'why');
    assert.equal(args.details, 'a b');
    assert.equal(args.endpoint, 'unix:/run/s.sock');
    assert.equal(args.delivery, 'queued');
    assert.equal(args.timeoutMs, 2500);
    assert.equal(args.help, false);
    assert.equal(args.generateCliSkeleton, undefined);
  });

  test('keeps empty values and values that only look like options when argparse would', () => {
    const args = parseRespondArgs([
      '--task-token',
      't',
      '--reason',
      '',
      '--details',
      '--- not an option',
      '--timeout',
      '0',
    ]);
    assert.equal(args.reason, '');
    assert.equal(args.details, '--- not an option');
    assert.equal(args.timeoutMs, 0);
    assert.equal(parseRespondArgs(['--reason=--x']).reason, '--x');
    assert.equal(parseRespondArgs(['--reason', '-1']).reason, '-1');
  });

  test('--generate-cli-skeleton takes an optional value, input by default', () => {
    assert.equal(parseRespondArgs(['--generate-cli-skeleton']).generateCliSkeleton, 'input');
    assert.equal(parseRespondArgs(['--generate-cli-skeleton', 'input']).generateCliSkeleton, 'input');
    assert.equal(parseRespondArgs(['--generate-cli-skeleton', '--reason', 'r']).generateCliSkeleton, 'input');
    assert.throws(() => parseRespondArgs(['--generate-cli-skeleton', 'output']), /not supported/);
    assert.throws(() => parseRespondArgs(['--generate-cli-skeleton=json']), /invalid choice/);
  });

  test('help in any of its spellings', () => {
    for (const spelling of ['--help', '-h', 'help']) assert.equal(parseRespondArgs([spelling]).help, true);
  });

  test('refuses what the AWS CLI refuses, as UsageError', () => {
    const cases: [string[], RegExp][] = [
      [['--task-token'], /--task-token: expected one argument/],
      [['--reason', '--details', 'd'], /--reason: expected one argument/],
      [['--task-token', 't', '--region', 'us-east-1'], /Unknown options: --region, us-east-1/],
      [['stray'], /Unknown options: stray/],
      [['--delivery', 'later'], /--delivery: invalid choice/],
      [['--timeout', '-1'], /--timeout: expected a number of seconds/],
      [['--timeout', 'soon'], /--timeout: expected a number of seconds/],
      [['--endpoint', ''], /--endpoint: expected HOST:PORT/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseRespondArgs(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        argv.join(' '),
      );
    }
  });
});

describe('--cli-input-json', () => {
  test('the skeleton is the AWS CLI one, byte for byte', () => {
    assert.equal(cliSkeleton(), '{\n    "taskToken": "",\n    "reason": "",\n    "details": ""\n}\n');
  });

  test('reads a JSON string, and a file:// path as UTF-8', () => {
    assert.deepEqual(readCliInputJson('{"taskToken":"t","details":"é 🚀"}'), { taskToken: 't', details: 'é 🚀' });
    const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-cli-'));
    try {
      const file = join(dir, 'input.json');
      writeFileSync(file, JSON.stringify({ taskToken: 't', reason: '' }), 'utf8');
      assert.deepEqual(readCliInputJson(`file://${file}`), { taskToken: 't', reason: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses what botocore refuses, as UsageError', () => {
    const cases: [string, RegExp][] = [
      ['{bad', /Invalid JSON/],
      ['[1]', /expected a JSON object/],
      ['{"taskToken":"t","foo":"x"}', /Unknown parameter in input: "foo", must be one of: taskToken, reason, details/],
      ['{"taskToken":"t","reason":5}', /Invalid type for parameter reason/],
      ['{"taskToken":null}', /Invalid type for parameter taskToken/],
      ['file:///nonexistent/swf-sidecar/input.json', /Unable to load paramfile file:\/\/\/nonexistent/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => readCliInputJson(value),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        value,
      );
    }
  });
});

describe('exitCodeForStatus', () => {
  test('follows the AWS CLI v2: 254 when the sidecar answered, 255 when it could not', () => {
    assert.equal(exitCodeForStatus(0, true), EXIT.ok);
    for (const answered of [2, 3, 5, 7, 8, 9, 12, 13, 16]) assert.equal(exitCodeForStatus(answered, true), 254);
    assert.equal(exitCodeForStatus(14, true), 254, 'UNAVAILABLE from a connected sidecar (SWF unreachable, draining)');
    assert.equal(exitCodeForStatus(14, false), 255, 'UNAVAILABLE without a connection');
    assert.equal(exitCodeForStatus(4, true), 255, 'DEADLINE_EXCEEDED');
    assert.equal(exitCodeForStatus(1, true), 255, 'CANCELLED');
  });
});
