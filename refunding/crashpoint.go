//go:build !crashtest || !unix

package refunding

// crashPoint is a no-op in the product; the crashtest build (crashpoint_crashtest.go)
// kills the process there so the end-to-end tests can prove a resume refunds once.
func crashPoint(string) {}
