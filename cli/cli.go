// Package cli implements doublecheck's commands. main.go only calls Run. Every
// command is an options struct, a parse step that fills it from the command line
// (newXCmd) and a run step (runX) that builds the pieces it needs (store, Stripe
// client, sandbox, dashboard). What a command touches on the machine comes from
// Env, never from the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
)

// Version is doublecheck's version, sent with refunds as metadata.
var Version = "0.1.0-dev"

// Exit codes: scripts rely on them.
const (
	exitOK    = 0
	exitError = 1 // also: scan --exit-code found open or pending groups
	exitUsage = 2
)

const usageText = `doublecheck finds Stripe, PayPal and Adyen charges taken twice and refunds the extra ones, exactly once.

Usage:
  doublecheck [flags]                the dashboard on your account (STRIPE_API_KEY or --api-key)
  doublecheck demo [--serve ADDR]    the dashboard on the built-in sandbox, no account needed
  doublecheck import FILE…           load charges from files (Stripe JSON, a Stripe or PayPal export, Adyen reports)
  doublecheck sync                   pull charges and events into the store
  doublecheck scan                   print suspected duplicates (--format table|json|csv)
  doublecheck export [-o FILE]       the reconciliation report as CSV
  doublecheck refund                 refund suspects headlessly (--charge ID | --group ID)
  doublecheck dismiss --group ID     record a group as legitimate (--note TEXT), as the dashboard's d
  doublecheck undo --group ID        reopen a dismissed group, as the dashboard's u
  doublecheck keys import FILE       load the merchant's idempotency-key log (CSV or JSONL)
  doublecheck adyen-notifications F  record Adyen REFUND outcomes from saved webhook bodies (ADYEN_HMAC_KEY)

Flags may come before the command too: doublecheck --db PATH scan.
Run 'doublecheck COMMAND --help' for a command's flags, 'doublecheck --version' for the version.

Flags of the dashboard:
`

// dashboardName names the dashboard's flag set: it is doublecheck without a command.
const dashboardName = "doublecheck"

// commands are doublecheck's commands, bound to env. The first is the
// dashboard, which runs when no command is named.
func commands(env Env) []*command {
	return []*command{
		newDashboardCmd(env, nil),
		newDemoCmd(env, nil),
		newImportCmd(env, nil),
		newSyncCmd(env, nil),
		newScanCmd(env, nil),
		newExportCmd(env, nil),
		newRefundCmd(env, nil),
		newDismissCmd(env, nil),
		newUndoCmd(env, nil),
		newKeysImportCmd(env, nil),
		newAdyenNotificationsCmd(env, nil),
	}
}

// Run executes one doublecheck command line and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	return run(ctx, args, env, commands(env))
}

func run(ctx context.Context, args []string, env Env, cmds []*command) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "-help", "help":
			if args[0] == "help" && len(args) > 1 { // help COMMAND
				if cmd, _, err := route(args[1:], cmds); err == nil && cmd != cmds[0] {
					fmt.Fprint(env.Stdout, cmd.flags.usage())
					return exitOK
				}
			}
			fmt.Fprint(env.Stdout, usageText+cmds[0].flags.flagList())
			return exitOK
		case "--version", "version":
			fmt.Fprintln(env.Stdout, "doublecheck "+Version)
			return exitOK
		}
	}
	cmd, args, err := route(args, cmds)
	if err != nil {
		return exitCode(env, err)
	}
	return exitCode(env, cmd.execute(ctx, env.Stdout, args))
}

// rootHint points to the overview, for what goes wrong before a command is known.
const rootHint = "Run 'doublecheck --help' for its flags and commands.\n"

// route finds the command a command line names, and the arguments it gets.
// Flags may come before the command, as with git and kubectl (doublecheck --db
// PATH scan): they go to the command with the rest. Without a command word it is
// the dashboard.
func route(args []string, cmds []*command) (*command, []string, error) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			break
		}
		if arg == "-" || !strings.HasPrefix(arg, "-") {
			return named(arg, args[:i], args[i+1:], cmds)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if hasValue || name == "h" || name == "help" {
			continue
		}
		fl := lookupFlag(cmds, name)
		if fl == nil {
			msg := "flag provided but not defined: " + flagName(name)
			for _, c := range cmds {
				if near := c.flags.nearest(name); near != "" {
					msg += "; did you mean " + flagName(near) + "?"
					break
				}
			}
			return nil, nil, &usageError{msg: msg, usage: rootHint}
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			i++ // its value
		}
	}
	return cmds[0], args, nil
}

// named is the command called word, given the flags before it and the
// arguments after it.
func named(word string, before, after []string, cmds []*command) (*command, []string, error) {
	name := word
	if word == "keys" {
		if len(after) > 0 && slices.Contains([]string{"-h", "-help", "--help"}, after[0]) {
			after = append([]string{"import"}, after...)
		}
		if len(after) == 0 || after[0] != "import" {
			return nil, nil, &usageError{msg: "keys needs a subcommand", usage: "Usage:\n  " + keysSynopsis + "\n"}
		}
		name, after = "keys import", after[1:]
	}
	for _, c := range cmds[1:] {
		if c.flags.Name() == name {
			return c, append(slices.Clone(before), after...), nil
		}
	}
	return nil, nil, &usageError{
		msg:   fmt.Sprintf("unknown command %q; the commands are demo, import, sync, scan, export, refund, dismiss, undo, keys import and adyen-notifications", word),
		usage: rootHint,
	}
}

// lookupFlag is the flag called name in any command, or nil.
func lookupFlag(cmds []*command, name string) *flag.Flag {
	for _, c := range cmds {
		if fl := c.flags.Lookup(name); fl != nil {
			return fl
		}
	}
	return nil
}

// usageError is bad command-line input: usage goes to stderr and the exit is 2.
type usageError struct{ msg, usage string }

func (e *usageError) Error() string { return e.msg }

// exitStatus carries a non-error exit code (scan --exit-code).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitCode(env Env, err error) int {
	var usage *usageError
	var status exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return int(status)
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(env.Stderr, "doublecheck: %s\n\n%s", usage.msg, usage.usage)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(env.Stderr, "doublecheck: interrupted")
		return exitError
	default:
		fmt.Fprintf(env.Stderr, "doublecheck: %s\n", sentence(err.Error()))
		return exitError
	}
}

// sentence ends an error message with a full stop, so every failure reads as one
// clear sentence.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" || strings.HasSuffix(msg, ".") || strings.HasSuffix(msg, "?") || strings.HasSuffix(msg, "!") {
		return msg
	}
	return msg + "."
}
