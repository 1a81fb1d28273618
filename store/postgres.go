package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// A shared store lives in a PostgreSQL database, named by a postgres:// or
// postgresql:// URL (libpq's form: https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING),
// read by pgx, which honours its TLS parameters (sslmode, sslrootcert,
// sslcert, sslkey…) as libpq does. Every operator's doublecheck connects to it;
// the tables are those of the SQLite store (migrations/postgres).

// migrationLock is the advisory lock key migrations take, so that two
// processes opening a new database migrate it one after the other.
const migrationLock int64 = 0x646f75626c65 // "double"

// modeLock is the advisory lock key of reading and fixing a store's mode
// (lockMode).
const modeLock int64 = 0x6d6f6465 // "mode"

// IsURL reports whether location names a PostgreSQL store (a postgres:// or
// postgresql:// URL) rather than the path of an SQLite file.
func IsURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL is a PostgreSQL URL as doublecheck shows it: its password, in the
// user part or in a password or sslpassword parameter, reads xxxxx. A URL that
// does not parse shows only its scheme, since where its password is cannot be
// told.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://(a URL that does not parse)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	masked := false
	for name := range q {
		if isSecretParam(name) {
			q.Set(name, "xxxxx")
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func isSecretParam(name string) bool {
	name = strings.ToLower(name)
	return name == "password" || name == "sslpassword"
}

// urlSecrets are the secrets of a URL as they may appear in a message: as
// written and decoded.
func urlSecrets(raw string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 { // a shorter "secret" would mask common words
			out = append(out, s)
			if esc := url.QueryEscape(s); esc != s {
				out = append(out, esc)
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Anything after "//" up to the last '@' may be a password.
		if _, rest, ok := strings.Cut(raw, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				_, pw, _ := strings.Cut(rest[:at], ":")
				add(pw)
			}
		}
		return out
	}
	if pw, ok := u.User.Password(); ok {
		add(pw)
	}
	for name, values := range u.Query() {
		if isSecretParam(name) {
			for _, v := range values {
				add(v)
			}
		}
	}
	return out
}

// scrubbedError is an error whose text had the connection's secrets masked;
// errors.Is and errors.As still see the original.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return &scrubbedError{msg: msg, err: err}
}

// openPostgres opens the store in the PostgreSQL database at rawURL, creating
// its tables when create is set and bringing them up to date (unless
// readOnly, which opens it for reading only and writes nothing).
func openPostgres(ctx context.Context, rawURL string, create, readOnly bool) (*Store, error) {
	shown := RedactURL(rawURL)
	secrets := urlSecrets(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx masks the password in its parse errors only as far as it can
		// recognise it: the message is scrubbed here too and never wrapped.
		return nil, fmt.Errorf("open store %s: the URL cannot be used: %s", shown, scrub(err, secrets).Error())
	}
	if readOnly {
		// The server refuses writes too, not only this Store.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "doublecheck"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	p := &pool{DB: db, d: postgresDialect}
	s := &Store{path: shown, writer: p, reader: p, readOnly: readOnly, d: postgresDialect, handle: newHandle()}
	if err := s.migratePostgres(ctx, create, readOnly); err != nil {
		db.Close()
		return nil, scrub(err, secrets)
	}
	return s, nil
}

// migratePostgres checks that the database holds a doublecheck store this
// doublecheck can read (or nothing, when create is set) and applies the
// migrations it lacks.
func (s *Store) migratePostgres(ctx context.Context, create, readOnly bool) error {
	all, err := migrations(postgresMigrations)
	if err != nil {
		return err
	}
	var tables, versioned int
	err = s.writer.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN table_name = 'schema_version' THEN 1 END)
		FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables, &versioned)
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	current := 0
	if versioned > 0 {
		if err := s.writer.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("open store %s: %w", s.path, err)
		}
	}
	switch {
	case tables > 0 && versioned == 0:
		return fmt.Errorf("open store %s: the database holds tables but no doublecheck store; give doublecheck a database (or schema) of its own", s.path)
	case current > len(all):
		return fmt.Errorf("open store %s: database schema version %d is newer than this doublecheck supports (%d); upgrade doublecheck", s.path, current, len(all))
	case current == 0 && (!create || readOnly):
		return fmt.Errorf("%w at %s: the database holds no doublecheck store yet; run doublecheck sync or doublecheck import to create one", ErrNoStore, s.path)
	case current < len(all) && readOnly:
		return fmt.Errorf("open store %s: its schema (version %d) needs an upgrade to version %d, which only a command that writes can do (doublecheck sync or doublecheck import)", s.path, current, len(all))
	}
	for _, m := range all[current:] {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("open store %s: %w", s.path, err)
		}
	}
	if readOnly {
		return nil
	}
	return s.refreshFacts(ctx)
}
