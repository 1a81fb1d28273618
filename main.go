// Command doublecheck finds Stripe charges that look like one payment taken twice,
// explains why, and refunds the extra ones exactly once. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/doublecheck-dev/doublecheck/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
