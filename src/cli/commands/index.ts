import type { Command } from '../command.ts'
import { initCommand } from './init.ts'
import { serveCommand } from './serve.ts'
import { tokenCommand } from './token.ts'

/** Every CLI command; `tessera help` lists them in this order. */
export const COMMANDS: readonly Command[] = [serveCommand, initCommand, tokenCommand]
