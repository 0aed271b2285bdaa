package main

import (
	"fmt"
	"io"
	"strings"
)

// Shell completion, generated from the commands' own flags and help
// (describeAll), so it cannot drift from what srt-mcp parses.

func newCompletionCommand() *command {
	return newCommand("completion", "bash|zsh|fish", `Prints a completion script for the shell. Load it with
  bash: source <(srt-mcp completion bash)
  zsh:  srt-mcp completion zsh > "${fpath[1]}/_srt-mcp"
  fish: srt-mcp completion fish > ~/.config/fish/completions/srt-mcp.fish
`)
}

func newManCommand() *command {
	return newCommand("man", "", "Prints srt-mcp's manual page (roff): srt-mcp man | man -l -\n")
}

func newVersionCommand() *command {
	return newCommand("version", "", "Prints the version.\n")
}

// extraCommands are the sub-commands run dispatches itself (they are not
// in subcommands, which describeAll reads, to keep its initialisation
// free of cycles).
func extraCommands() []*command {
	return []*command{newCompletionCommand(), newManCommand(), newVersionCommand()}
}

func runCompletion(args []string, stdout, stderr io.Writer) int {
	cmd := newCompletionCommand()
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() != 1 {
		return cmd.usageError(stderr, fmt.Errorf("want one shell: bash, zsh or fish"))
	}
	root, subs := describeAll()
	switch cmd.Arg(0) {
	case "bash":
		fmt.Fprint(stdout, bashCompletion(root, subs))
	case "zsh":
		fmt.Fprint(stdout, zshCompletion(root, subs))
	case "fish":
		fmt.Fprint(stdout, fishCompletion(root, subs))
	default:
		return cmd.usageError(stderr, fmt.Errorf("no completion for %q: want bash, zsh or fish", cmd.Arg(0)))
	}
	return 0
}

// flagWords are a command's flags as typed: --long and -s.
func flagWords(d cmdDoc) (all, withValue []string) {
	for _, f := range d.flags {
		names := []string{"--" + f.long}
		if len(f.long) == 1 {
			names = []string{"-" + f.long}
		}
		if f.short != "" {
			names = append(names, "-"+f.short)
		}
		all = append(all, names...)
		if f.placeholder != "" {
			withValue = append(withValue, names...)
		}
	}
	return all, withValue
}

func bashCompletion(root cmdDoc, subs []cmdDoc) string {
	var b strings.Builder
	rootFlags, rootValues := flagWords(root)
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	names = append(names, "help")
	b.WriteString("# bash completion for srt-mcp (srt-mcp completion bash)\n")
	b.WriteString("_srt_mcp() {\n")
	b.WriteString("    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} sub= i w\n")
	// The first word that is neither a flag nor a flag's value is the
	// sub-command, or the server's command (whose arguments are its own).
	fmt.Fprintf(&b, "    for ((i = 1; i < COMP_CWORD; i++)); do\n        w=${COMP_WORDS[i]}\n        case $w in\n            --) sub=--; break ;;\n            %s) ((i++)) ;;\n            -*) ;;\n            *) sub=$w; break ;;\n        esac\n    done\n", strings.Join(rootValues, "|"))
	b.WriteString("    case $sub in\n")
	for _, s := range subs {
		all, values := flagWords(s)
		all = append(all, "--help")
		fmt.Fprintf(&b, "    %s)\n", s.name)
		if len(values) > 0 {
			fmt.Fprintf(&b, "        case $prev in %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;; esac\n", strings.Join(values, "|"))
		}
		words := strings.Join(all, " ")
		switch s.name {
		case "completion":
			words = "bash zsh fish"
		case "help":
		}
		fmt.Fprintf(&b, "        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n", words)
		b.WriteString("        [[ $cur == -* || ${#COMPREPLY[@]} -gt 0 ]] || COMPREPLY=($(compgen -f -- \"$cur\"))\n        ;;\n")
	}
	fmt.Fprintf(&b, "    help) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", strings.Join(names[:len(names)-1], " "))
	b.WriteString("    '')\n")
	if len(rootValues) > 0 {
		fmt.Fprintf(&b, "        case $prev in %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;; esac\n", strings.Join(rootValues, "|"))
	}
	fmt.Fprintf(&b, "        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\"))\n", strings.Join(append(rootFlags, "--"), " "))
	fmt.Fprintf(&b, "        else COMPREPLY=($(compgen -W %q -- \"$cur\") $(compgen -c -- \"$cur\")); fi\n        ;;\n", strings.Join(names, " "))
	b.WriteString("    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;; # the server's own arguments\n")
	b.WriteString("    esac\n}\ncomplete -F _srt_mcp srt-mcp\n")
	return b.String()
}

// zshQuote quotes s for a single-quoted zsh word, escaping what
// _arguments gives a meaning to inside a description.
func zshDesc(s string) string {
	s = strings.NewReplacer("'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
	return s
}

func zshSpecs(d cmdDoc) []string {
	var out []string
	for _, f := range d.flags {
		long := "--" + f.long
		if len(f.long) == 1 {
			long = "-" + f.long
		}
		value := ""
		if f.placeholder != "" {
			value = ":" + zshDesc(strings.Trim(f.placeholder, "'")) + ":_files"
		}
		if f.short != "" {
			out = append(out, fmt.Sprintf("'(-%s %s)'{-%s,%s}'[%s]%s'", f.short, long, f.short, long, zshDesc(f.desc), value))
		} else {
			out = append(out, fmt.Sprintf("'%s[%s]%s'", long, zshDesc(f.desc), value))
		}
	}
	return out
}

func zshCompletion(root cmdDoc, subs []cmdDoc) string {
	var b strings.Builder
	b.WriteString("#compdef srt-mcp\n# zsh completion for srt-mcp (srt-mcp completion zsh)\n\n_srt_mcp() {\n")
	b.WriteString("    local -a subcommands\n    subcommands=(\n")
	for _, s := range subs {
		fmt.Fprintf(&b, "        '%s:%s'\n", s.name, zshDesc(s.summary()))
	}
	b.WriteString("        'help:print the help of srt-mcp or of a sub-command'\n    )\n")
	b.WriteString("    case $words[2] in\n")
	for _, s := range subs {
		specs := zshSpecs(s)
		specs = append(specs, "'(- *)'{-h,--help}'[print this help]'")
		switch s.name {
		case "completion":
			specs = append(specs, "'1:shell:(bash zsh fish)'")
		default:
			specs = append(specs, "'*:file:_files'")
		}
		fmt.Fprintf(&b, "    %s)\n        shift words; (( CURRENT-- ))\n        _arguments -s \\\n            %s\n        ;;\n", s.name, strings.Join(specs, " \\\n            "))
	}
	b.WriteString("    help)\n        _describe 'sub-command' subcommands\n        ;;\n")
	b.WriteString("    *)\n        _arguments -s \\\n            ")
	specs := zshSpecs(root)
	specs = append(specs, "'1: :->first'", "'*:: :_normal'")
	b.WriteString(strings.Join(specs, " \\\n            "))
	b.WriteString("\n        [[ $state == first ]] && { _describe 'sub-command' subcommands; _command_names -e; }\n        ;;\n    esac\n}\n\n_srt_mcp \"$@\"\n")
	return b.String()
}

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func fishCompletion(root cmdDoc, subs []cmdDoc) string {
	var b strings.Builder
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	b.WriteString("# fish completion for srt-mcp (srt-mcp completion fish)\n")
	b.WriteString("complete -c srt-mcp -f\n")
	top := "__fish_use_subcommand"
	for _, s := range subs {
		fmt.Fprintf(&b, "complete -c srt-mcp -n %s -a %s -d %s\n", top, s.name, fishQuote(s.summary()))
	}
	fmt.Fprintf(&b, "complete -c srt-mcp -n %s -a help -d %s\n", top, fishQuote("print the help of srt-mcp or of a sub-command"))
	fmt.Fprintf(&b, "complete -c srt-mcp -n %s -a %s\n", fishQuote("__fish_seen_subcommand_from help"), fishQuote(strings.Join(names, " ")))
	flagLines := func(cond string, d cmdDoc) {
		for _, f := range d.flags {
			line := "complete -c srt-mcp -n " + fishQuote(cond)
			if len(f.long) == 1 {
				line += " -o " + f.long
			} else {
				line += " -l " + f.long
			}
			if f.short != "" {
				line += " -s " + f.short
			}
			if f.placeholder != "" {
				line += " -r -F"
			}
			b.WriteString(line + " -d " + fishQuote(f.desc) + "\n")
		}
	}
	flagLines(top, root)
	for _, s := range subs {
		cond := "__fish_seen_subcommand_from " + s.name
		flagLines(cond, s)
		switch s.name {
		case "completion":
			fmt.Fprintf(&b, "complete -c srt-mcp -n %s -a 'bash zsh fish'\n", fishQuote(cond))
		case "verify", "audit":
			fmt.Fprintf(&b, "complete -c srt-mcp -n %s -F\n", fishQuote(cond))
		}
	}
	return b.String()
}
