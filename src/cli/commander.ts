/**
 * commander's classes, loaded through `require`. commander is CommonJS; importing it as ESM makes Node run
 * cjs-module-lexer over its sources to find the named exports, about 3 ms of every command line's start-up
 * (bench startup), where the CommonJS entry loads directly. Types still come from `import type ... 'commander'`.
 */
import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof CommanderModule;

// Each class as a value and as a type, as `import { Command } from 'commander'` gives it.
export const Command: typeof CommanderModule.Command = commander.Command;
export type Command = CommanderModule.Command;
export const CommanderError: typeof CommanderModule.CommanderError = commander.CommanderError;
export type CommanderError = CommanderModule.CommanderError;
export const InvalidArgumentError: typeof CommanderModule.InvalidArgumentError = commander.InvalidArgumentError;
export type InvalidArgumentError = CommanderModule.InvalidArgumentError;
export const Option: typeof CommanderModule.Option = commander.Option;
export type Option = CommanderModule.Option;
