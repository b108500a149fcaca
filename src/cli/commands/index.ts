import type { Command } from '../command.ts'
import { applyCommand } from './apply.ts'
import { backupCommand } from './backup.ts'
import { checkCommand } from './check.ts'
import { compactCommand } from './compact.ts'
import { gcCommand } from './gc.ts'
import { demoCommand } from './demo.ts'
import { doctorCommand } from './doctor.ts'
import { exportCommand } from './export.ts'
import { importCommand } from './import.ts'
import { initCommand } from './init.ts'
import { restoreCommand } from './restore.ts'
import { runCommand } from './run.ts'
import { serveCommand } from './serve.ts'
import { tokenCommand } from './token.ts'

/** Every CLI command; `tessera help` lists them in this order. */
export const COMMANDS: readonly Command[] = [serveCommand, demoCommand, initCommand, applyCommand, importCommand, exportCommand, runCommand, doctorCommand, checkCommand, compactCommand, gcCommand, backupCommand, restoreCommand, tokenCommand]
