import type { Command } from '../command.ts'
import { out, UsageError } from '../command.ts'

// `tessera completion bash|zsh|fish`: a script completing command names and each command's flags, generated from
// the command table, so a new command completes without editing this file.

function flagsOf(cmd: Command): string[] {
  return [...Object.keys(cmd.options).map((o) => `--${o}`), '--help']
}

function bash(commands: readonly Command[]): string {
  const cases = commands.map((c) => `    ${c.name}) flags="${flagsOf(c).join(' ')}" ;;`).join('\n')
  return `# tessera bash completion: eval "$(tessera completion bash)" (e.g. in ~/.bashrc)
_tessera() {
  local cur=\${COMP_WORDS[COMP_CWORD]} flags
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} help" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _tessera tessera
`
}

function zsh(commands: readonly Command[]): string {
  const q = (s: string) => s.replaceAll("'", "'\\''").replaceAll(':', '\\:')
  const cmds = commands.map((c) => `    '${c.name}:${q(c.summary)}'`).join('\n')
  const cases = commands.map((c) => `    ${c.name}) _arguments ${flagsOf(c).map((f) => `'${f}[]'`).join(' ')} '*:file:_files' ;;`).join('\n')
  return `#compdef tessera
# tessera zsh completion: tessera completion zsh > "\${fpath[1]}/_tessera" (or eval "$(tessera completion zsh)")
_tessera() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _tessera tessera 2>/dev/null || true
`
}

function fish(commands: readonly Command[]): string {
  const q = (s: string) => s.replaceAll("'", "\\'")
  const lines = ['# tessera fish completion: tessera completion fish > ~/.config/fish/completions/tessera.fish', 'complete -c tessera -f']
  for (const c of commands) {
    lines.push(`complete -c tessera -n '__fish_use_subcommand' -a ${c.name} -d '${q(c.summary)}'`)
    for (const o of Object.keys(c.options)) lines.push(`complete -c tessera -n '__fish_seen_subcommand_from ${c.name}' -l ${o}`)
  }
  return lines.join('\n') + '\n'
}

/** Built with the full command list (commands/index.ts passes it, so this file needs no import of it). */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    name: 'completion',
    summary: 'print a shell completion script (bash, zsh or fish)',
    maxArguments: 1,
    usage: 'tessera completion bash|zsh|fish',
    options: {},
    help: `examples:
  eval "$(tessera completion bash)"                                   # in ~/.bashrc
  tessera completion zsh > "\${fpath[1]}/_tessera"
  tessera completion fish > ~/.config/fish/completions/tessera.fish`,
    async run(_values, positionals) {
      const shell = positionals[0]
      const make = shell === 'bash' ? bash : shell === 'zsh' ? zsh : shell === 'fish' ? fish : undefined
      if (!make) throw new UsageError(`name the shell: bash, zsh or fish${shell ? ` (got '${shell}')` : ''}`)
      out(make(commands()).trimEnd())
    },
  }
}
