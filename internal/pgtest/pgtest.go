// Package pgtest gives tests a PostgreSQL server: the one DOUBLECHECK_TEST_POSTGRES
// names, else a throwaway cluster started with initdb and pg_ctl in a
// temporary directory (shared by the tests of one test binary, stopped by
// Main), else none, with the reason the tests say when they skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvURL names the PostgreSQL database tests use instead of a cluster of
// their own: a URL whose role may create schemas in it.
const EnvURL = "DOUBLECHECK_TEST_POSTGRES"

// EnvRequired, when set, fails the tests that need PostgreSQL where there is
// none instead of skipping them: CI sets it.
const EnvRequired = "DOUBLECHECK_TEST_POSTGRES_REQUIRED"

var (
	once    sync.Once
	baseURL string
	reason  string // why there is no server
	stop    func()
)

// server is the URL of the test server, starting it on first use; "" and the
// reason when there is none.
func server() (string, string) {
	once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			baseURL = u
			return
		}
		baseURL, stop, reason = startCluster()
	})
	return baseURL, reason
}

// Main runs the tests and stops the cluster they started, if any: call it
// from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if stop != nil {
		stop()
	}
	return code
}

// URL is a PostgreSQL URL to a new, empty schema of the test server, for t
// alone (its search_path), dropped when t ends. Without a server t is
// skipped, saying why.
func URL(t testing.TB) string {
	t.Helper()
	base, why := server()
	if base == "" && os.Getenv(EnvRequired) != "" {
		t.Fatal("no PostgreSQL for this test, and " + EnvRequired + " is set: " + why)
	}
	if base == "" {
		t.Skip("no PostgreSQL for this test: " + why)
	}
	schema := "t_" + strings.ToLower(rand.Text()[:12])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("test PostgreSQL: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("test PostgreSQL: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return withParam(base, "search_path", schema)
}

// withParam is the URL u with the query parameter name set to value.
func withParam(u, name, value string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("test PostgreSQL URL does not parse: %v", err))
	}
	q := parsed.Query()
	q.Set(name, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}
