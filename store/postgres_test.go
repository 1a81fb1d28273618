package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestIsURL(t *testing.T) {
	tests := []struct {
		location string
		want     bool
	}{
		{"postgres://db.example.com/doublecheck", true},
		{"postgresql://ann@db/doublecheck?sslmode=verify-full", true},
		{"POSTGRES://db/x", true},
		{"/home/ann/.local/share/doublecheck/acct_1-live.db", false},
		{"postgres.db", false},
		{"./postgres:/x.db", false},
	}
	for _, tt := range tests {
		if got := IsURL(tt.location); got != tt.want {
			t.Errorf("IsURL(%q) = %v, want %v", tt.location, got, tt.want)
		}
	}
}

func TestRedactURLMasksEveryPassword(t *testing.T) {
	tests := []struct{ url, want string }{
		{"postgres://ann:s3cret-pw@db.example.com:5432/doublecheck?sslmode=verify-full",
			"postgres://ann:xxxxx@db.example.com:5432/doublecheck?sslmode=verify-full"},
		{"postgresql://ann@db/doublecheck?password=s3cret-pw&sslmode=require",
			"postgresql://ann@db/doublecheck?password=xxxxx&sslmode=require"},
		{"postgres://ann@db/doublecheck?sslpassword=s3cret-pw", "postgres://ann@db/doublecheck?sslpassword=xxxxx"},
		{"postgres://ann@db/doublecheck", "postgres://ann@db/doublecheck"},
		{"postgres://ann:s3cret-pw@db:bad-port%zz/x", "postgres://(a URL that does not parse)"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.url); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

// Whatever fails when a PostgreSQL store is opened, its password stays out of
// the message, which names the store by its masked URL. The TLS parameters
// reach pgx: a CA file that is not there is its error.
func TestOpenPostgresErrorsNeverShowThePassword(t *testing.T) {
	const secret = "s3cret-pw"
	tests := []struct{ name, url, want string }{
		{"nothing listens", "postgres://ann:" + secret + "@127.0.0.1:1/doublecheck?connect_timeout=2", "ann:xxxxx@127.0.0.1:1"},
		{"password as a parameter", "postgres://ann@127.0.0.1:1/doublecheck?connect_timeout=2&password=" + secret, "password=xxxxx"},
		{"bad sslmode", "postgres://ann:" + secret + "@db.example.com/doublecheck?sslmode=sometimes", "sslmode"},
		{"missing CA file", "postgres://ann:" + secret + "@db.example.com/doublecheck?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "/nonexistent/ca.pem"},
		{"bad port", "postgres://ann:" + secret + "@db.example.com:99999999/doublecheck", "cannot be used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10e9)
			defer cancel()
			s, err := Open(ctx, tt.url)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one saying %q", err, tt.want)
			}
		})
	}
}

// Migration N of SQLite and of PostgreSQL are one change: both lists have the
// same files.
func TestMigrationsOfBothDialectsMatch(t *testing.T) {
	lite, err := migrations(sqliteMigrations)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(postgresMigrations)
	if err != nil {
		t.Fatal(err)
	}
	var liteNames, pgNames []string
	for _, m := range lite {
		liteNames = append(liteNames, m.name)
	}
	for _, m := range pg {
		pgNames = append(pgNames, m.name)
	}
	if strings.Join(liteNames, " ") != strings.Join(pgNames, " ") {
		t.Errorf("SQLite migrations %v, PostgreSQL migrations %v: each needs its twin", liteNames, pgNames)
	}
}

// A database that holds no store: commands that only read create nothing
// and say so; one with other tables is refused.
func TestOpenPostgresWithoutAStore(t *testing.T) {
	ctx := context.Background()
	url := testDialects[1].location(t)
	for name, open := range map[string]func(context.Context, string) (*Store, error){"OpenExisting": OpenExisting, "OpenReadOnly": OpenReadOnly} {
		if _, err := open(ctx, url); !errors.Is(err, ErrNoStore) {
			t.Errorf("%s on an empty database: %v, want ErrNoStore", name, err)
		}
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.writer.ExecContext(ctx, `DROP TABLE schema_version`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "no doublecheck store") {
		t.Errorf("Open of a database with other tables: %v, want a refusal", err)
	}
}

// A store opened read-only refuses writes, and so does the server.
func TestOpenPostgresReadOnly(t *testing.T) {
	ctx := context.Background()
	url := testDialects[1].location(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := OpenReadOnly(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.SetState(ctx, "x", "y"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetState on a read-only store: %v, want ErrReadOnly", err)
	}
	if _, err := ro.writer.ExecContext(ctx, `INSERT INTO state (name, value) VALUES ('x', 'y')`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write on the read-only connection: %v, want the server's refusal", err)
	}
}

// Several operators' first commands on a new database migrate it once: each
// open waits for the one migrating (an advisory lock), then finds it done.
func TestConcurrentFirstOpensOfAPostgresStoreMigrateOnce(t *testing.T) {
	url := testDialects[1].location(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(context.Background(), url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("a concurrent first open: %v", err)
		}
	}
	s := openAt(t, url)
	var versions, distinct int
	if err := s.reader.QueryRowContext(context.Background(), `SELECT count(*), count(DISTINCT version) FROM schema_version`).Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	all, _ := migrations(postgresMigrations)
	if versions != len(all) || distinct != len(all) {
		t.Errorf("schema_version holds %d rows (%d versions), want each of the %d migrations once", versions, distinct, len(all))
	}
}
