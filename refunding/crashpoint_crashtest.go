//go:build crashtest && unix

package refunding

import (
	"os"
	"syscall"
)

// crashEnv names the step at which a crashtest build SIGKILLs itself: "before-intent",
// "after-intent" (committed, nothing sent) or "after-stripe" (the provider refunded,
// the outcome not yet recorded; the name is older than providers other than Stripe). Only the binary the cli tests build with -tags crashtest
// reads it; the product has no such hook.
const crashEnv = "DOUBLECHECK_CRASH_AT"

func crashPoint(step string) {
	if os.Getenv(crashEnv) == step {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never run past the crash point
	}
}
