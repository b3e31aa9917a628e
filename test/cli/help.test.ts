/** Help examples run on a plain checkout: they name the embedded samples, never ../shared. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { commands } from '../../src/cli/commands.js';
import { projectRoot } from '../helpers/shared.js';

/** Every command and subcommand's help text, rendered as --help would print it. */
async function helpTexts(): Promise<{ name: string; text: string }[]> {
  const program = new Command('wavelm');
  for (const entry of commands) (await entry.load())(program);
  const out: { name: string; text: string }[] = [];
  const visit = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      const name = `${prefix}${sub.name()}`;
      let text = '';
      sub.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      sub.outputHelp();
      out.push({ name, text });
      visit(sub, `${name} `);
    }
  };
  visit(program, '');
  return out;
}

test('help examples name no ../shared paths, and the embedded sample paths they name exist', async () => {
  const texts = await helpTexts();
  assert.ok(texts.length >= 12, `${texts.length} commands`);
  for (const { name, text } of texts) {
    assert.doesNotMatch(text, /\.\.\/shared\//, `wavelm ${name} --help names a path under ../shared`);
    for (const m of text.matchAll(/node_modules\/supersonic-scsynth-samples\/samples(\/[\w.*]+)?/g)) {
      if (m[1]?.includes('*')) continue;
      assert.ok(existsSync(join(projectRoot, m[0])), `wavelm ${name} --help names ${m[0]}, which a checkout does not have`);
    }
  }
});
