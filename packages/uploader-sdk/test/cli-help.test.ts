import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_USAGE } from '../src/cli/common.js';
import { sluice } from './support/cli-run.js';

const COMMANDS = ['send', 'tail', 'status', 'dead-letters'] as const;

describe('sluice help', () => {
  it('every command prints its own usage for -h and --help, exits 0, and runs nothing', async () => {
    const runs = await Promise.all(
      COMMANDS.flatMap((command) =>
        ['-h', '--help'].map(async (flag) => ({ command, flag, result: await sluice([command, flag]) })),
      ),
    );
    for (const { command, flag, result } of runs) {
      expect(result.code, `${command} ${flag}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: sluice ${command} `));
      expect(result.stdout).toContain('Exit status:');
      expect(result.stderr).toBe('');
    }
  });

  it('the overall help lists every command, the key options with the reason to avoid --key, and the exit codes', async () => {
    const help = await sluice(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toContain(`sluice ${command} `);
    expect(help.stdout).toContain('--key-file PATH');
    expect(help.stdout).toContain('SLUICE_API_KEY');
    expect(help.stdout).toMatch(
      /--key KEY .*avoid it: other users see it in `ps`\s+and it stays in your\s+shell history/s,
    );
    for (const code of ['0', '1', '2', '3', '4', '130'])
      expect(help.stdout).toMatch(new RegExp(`^  ${code} `, 'm'));
    const wrong = await sluice(['send', '--bogus']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("Unknown option '--bogus'");
    expect(wrong.stderr).toContain('(sluice send -h for help)');
    const none = await sluice([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: sluice <command>');
  });

  it('the help and the README list the same exit statuses, every one the CLI uses', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('### Exit status'));
    const inReadme = [...table.matchAll(/^\| (\d+) \|/gm)].map((match) => Number(match[1]));
    const inHelp = [...EXIT_USAGE.matchAll(/^ {2}(\d+) /gm)].map((match) => Number(match[1]));
    const used = [...new Set(Object.values(EXIT))].filter((code) => code !== EXIT.terminated);
    expect(inReadme).toEqual(used);
    expect(inHelp).toEqual(used);
    expect(table).toContain('143: SIGTERM');
    expect(EXIT_USAGE).toContain('143: SIGTERM');
  });
});
