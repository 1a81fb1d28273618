package stripeapi

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// stripeMockDir holds the stripe-mock binary built for this test run.
var stripeMockDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stripeapi-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripeapi tests:", err)
		os.Exit(1)
	}
	stripeMockDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMockOnce sync.Once
	mockBinary    string
	buildMockErr  error
)

// buildStripeMock builds stripe-mock (a tool dependency in go.mod) once per
// test run, so the conformance tests run on any machine with a Go toolchain.
func buildStripeMock() (string, error) {
	buildMockOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		mockBinary = filepath.Join(stripeMockDir, "stripe-mock")
		out, err := exec.Command(goBin, "build", "-o", mockBinary, "github.com/stripe/stripe-mock").CombinedOutput()
		if err != nil {
			buildMockErr = fmt.Errorf("build stripe-mock: %v\n%s", err, out)
		}
	})
	return mockBinary, buildMockErr
}

// startStripeMock runs Stripe's OpenAPI-driven mock on free loopback ports for
// the test and returns its HTTP base URL. The refund tests use it too.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin, err := buildStripeMock()
	if err != nil {
		t.Fatal(err)
	}
	// Port 0 on both listeners: the mock picks free ports and prints them.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	type started struct{ addr, output string }
	ready := make(chan started, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var output []string
		for sc.Scan() {
			line := sc.Text()
			output = append(output, line)
			if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				ready <- started{addr: strings.TrimSpace(a)}
				for sc.Scan() { // keep draining so the mock never blocks on a full pipe
				}
				return
			}
		}
		ready <- started{output: strings.Join(output, "\n")}
	}()
	select {
	case s := <-ready:
		if s.addr == "" {
			t.Fatalf("stripe-mock exited before listening:\n%s", s.output)
		}
		return "http://" + s.addr
	case <-time.After(60 * time.Second):
		t.Fatal("stripe-mock did not start listening within 60 s")
	}
	return ""
}
