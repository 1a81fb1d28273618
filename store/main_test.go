package store

import (
	"os"
	"testing"

	"github.com/doublecheck-dev/doublecheck/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster the conformance suite may start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
