import type { Command } from '../command.ts'
import { applyCommand } from './apply.ts'
import { backupCommand } from './backup.ts'
import { checkCommand } from './check.ts'
import { compactCommand } from './compact.ts'
import { gcCommand } from './gc.ts'
import { completionCommand } from './completion.ts'
import { demoCommand } from './demo.ts'
import { describeCommand } from './describe.ts'
import { dirsCommand } from './dirs.ts'
import { doctorCommand } from './doctor.ts'
import { dropCommand } from './drop.ts'
import { exportCommand } from './export.ts'
import { historyCommand } from './history.ts'
import { importCommand } from './import.ts'
import { initCommand } from './init.ts'
import { lsCommand } from './ls.ts'
import { mkdirCommand } from './mkdir.ts'
import { mvCommand } from './mv.ts'
import { queryCommand } from './query.ts'
import { restoreCommand } from './restore.ts'
import { revertCommand } from './revert.ts'
import { runCommand } from './run.ts'
import { serveCommand } from './serve.ts'
import { tokenCommand } from './token.ts'

/** Every CLI command; `tessera help` lists them in this order. A new command: import it and add it to the list. */
export const COMMANDS: readonly Command[] = [
  serveCommand, demoCommand, initCommand,
  dirsCommand, lsCommand, describeCommand, queryCommand, historyCommand, revertCommand, mkdirCommand, mvCommand, dropCommand,
  applyCommand, importCommand, exportCommand, runCommand,
  doctorCommand, checkCommand, compactCommand, gcCommand, backupCommand, restoreCommand, tokenCommand,
  completionCommand(() => COMMANDS),
]
