// Package cli implements doublecheck's commands. main.go only calls Run; every
// command here parses its flags, builds the pieces it needs (store, Stripe client,
// sandbox, dashboard) and returns an exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Version is doublecheck's version, sent with refunds as metadata.
var Version = "0.1.0-dev"

// Env is the outside world a command may touch; tests substitute every part.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Home   string
	// Terminal reports whether stdin and stdout are a terminal (the dashboard and
	// interactive confirmations need one).
	Terminal bool
	// StderrTerminal reports whether stderr is a terminal (sync draws a progress bar).
	StderrTerminal bool
}

// OSEnv is the real process environment.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Home: home,
		Terminal:       isTerminal(os.Stdin) && isTerminal(os.Stdout),
		StderrTerminal: isTerminal(os.Stderr),
	}
}

// Exit codes: scripts rely on them.
const (
	exitOK    = 0
	exitError = 1 // also: scan --exit-code found open or pending groups
	exitUsage = 2
)

const usageText = `doublecheck finds Stripe charges taken twice and refunds the extra ones, exactly once.

Usage:
  doublecheck [flags]                the dashboard on your account (STRIPE_API_KEY or --api-key)
  doublecheck demo [--serve ADDR]    the dashboard on the built-in sandbox, no account needed
  doublecheck import FILE            load Stripe charge objects (a JSON list response or JSONL)
  doublecheck sync                   pull charges and events into the store
  doublecheck scan                   print suspected duplicates (--format table|json|csv)
  doublecheck export [-o FILE]       the reconciliation report as CSV
  doublecheck refund                 refund suspects headlessly (--charge ID | --group ID)
  doublecheck dismiss --group ID     record a group as legitimate (--note TEXT), as the dashboard's d
  doublecheck undo --group ID        reopen a dismissed group, as the dashboard's u
  doublecheck keys import FILE       load the merchant's idempotency-key log (CSV or JSONL)

Shared flags:
  --db PATH          the store (default: one file per account and mode under your data dir)
  --api-key KEY      Stripe secret or restricted key (default: STRIPE_API_KEY, then the stripe CLI's config)
  --api-base URL     Stripe-compatible server (default: STRIPE_API_BASE, then api.stripe.com)
  --read-only        never refund
  --dry-run          rehearse refunds: send and record nothing

Run 'doublecheck COMMAND --help' for a command's flags, 'doublecheck --version' for the version.
`

// command is one subcommand: its name, one-line summary and implementation.
type command struct {
	name string
	run  func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", runDemo},
		{"import", runImport},
		{"sync", runSync},
		{"scan", runScan},
		{"export", runExport},
		{"refund", runRefund},
		{"dismiss", runDismiss},
		{"undo", runUndo},
		{"keys", runKeys},
	}
}

// Run executes one doublecheck command line and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "help":
			fmt.Fprint(env.Stdout, usageText)
			return exitOK
		case "--version", "version":
			fmt.Fprintln(env.Stdout, "doublecheck "+Version)
			return exitOK
		}
	}
	run := runDashboard
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		run = nil
		for _, c := range commands() {
			if c.name == args[0] {
				run = c.run
				args = args[1:]
				break
			}
		}
		if run == nil {
			fmt.Fprintf(env.Stderr, "doublecheck: unknown command %q\n\n%s", args[0], usageText)
			return exitUsage
		}
	}
	return exitCode(env, run(ctx, env, args))
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
