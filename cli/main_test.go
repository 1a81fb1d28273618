package cli

import (
	"flag"
	"os"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
)

// TestMain runs more tests at once than the machine has cores, unless
// -parallel says otherwise: most cli tests wait on a sandbox, a child process or
// a terminal rather than on the CPU.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(pgtest.Main(m)) // stops the PostgreSQL cluster the shared-store tests may start
}
