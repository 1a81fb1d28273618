package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// dialect is what differs between the two databases a store can live in. The
// queries are written once, in SQL both accept, with ? placeholders; the
// dialect turns those into PostgreSQL's $n and supplies the few pieces whose
// spelling differs (see the methods). Everything SQLite-only (PRAGMAs, the
// file checks) stays on the SQLite path.
type dialect struct {
	postgres bool
	// rebound caches the PostgreSQL text of each query: the same few dozen
	// queries are run over and over.
	rebound sync.Map
}

var (
	sqliteDialect   = &dialect{}
	postgresDialect = &dialect{postgres: true}
)

// rebind turns the ? placeholders of query into $1, $2… for PostgreSQL, and a
// numbered ?N into $N. Question marks in string literals are left alone.
func (d *dialect) rebind(query string) string {
	if !d.postgres {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	d.rebound.Store(query, b.String())
	return b.String()
}

// Column kinds, for placeholders whose type the database cannot infer.
const (
	kindText  = "text"
	kindInt   = "bigint"
	kindBytes = "bytea"
)

// param is a placeholder for a value of kind where nothing gives its type
// (a VALUES list joined to a table): SQLite needs none, PostgreSQL would read
// an untyped parameter there as text.
func (d *dialect) param(kind string) string {
	if !d.postgres {
		return "?"
	}
	return "CAST(? AS " + kind + ")"
}

// concat aggregates expr over the rows of a query in the order of order.
// SQLite's group_concat concatenates in the order its subquery gives.
func (d *dialect) concat(expr, order string) string {
	return d.concatSep(expr, "''", order)
}

// concatSep is concat with sep, an SQL expression, between the values.
func (d *dialect) concatSep(expr, sep, order string) string {
	if d.postgres {
		return "string_agg(" + expr + ", " + sep + " ORDER BY " + order + ")"
	}
	return "group_concat(" + expr + ", " + sep + ")"
}

// unitSeparator is an SQL expression for the character U+001F.
func (d *dialect) unitSeparator() string {
	if d.postgres {
		return "chr(31)"
	}
	return "char(31)"
}

// bytewise is column, compared and ordered byte by byte as Go compares
// strings: SQLite's default; PostgreSQL's "C" collation.
func (d *dialect) bytewise(column string) string {
	if d.postgres {
		return column + ` COLLATE "C"`
	}
	return column
}

// concatBytes is concat for a column of bytes, empty for no rows (SQLite's
// group_concat reads a blob's bytes as text).
func (d *dialect) concatBytes(column, order string) string {
	if d.postgres {
		return "coalesce(string_agg(" + column + ", ''::bytea ORDER BY " + order + "), ''::bytea)"
	}
	return "coalesce(group_concat(" + column + ", ''), '')"
}

// byIDIndex names, after a table in FROM, the index a query must read in id
// order: SQLite's planner would read the table itself (its primary key),
// which is seven times larger; PostgreSQL's plans index-only scans itself.
func (d *dialect) byIDIndex(index string) string {
	if d.postgres {
		return ""
	}
	return " INDEXED BY " + index
}

// forUpdate ends a SELECT that reads a row the transaction will change:
// PostgreSQL locks it against other writers; SQLite's write transactions
// already exclude each other.
func (d *dialect) forUpdate() string {
	if d.postgres {
		return " FOR UPDATE"
	}
	return ""
}

// snapshot are the options of a read transaction that sees one consistent
// state: under WAL every SQLite read transaction does; PostgreSQL's default
// (read committed) takes a new snapshot per statement.
func (d *dialect) snapshot() *sql.TxOptions {
	if d.postgres {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return &sql.TxOptions{ReadOnly: true}
}

// pool is a database handle whose queries are written in the store's portable
// SQL (see dialect).
type pool struct {
	*sql.DB
	d *dialect
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.d.rebind(query), args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, p.d.rebind(query), args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, p.d.rebind(query), args...)
}

func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{Tx: tx, d: p.d}, nil
}

func (p *pool) Conn(ctx context.Context) (*pinned, error) {
	c, err := p.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &pinned{Conn: c, d: p.d}, nil
}

// pinned is one connection of a pool, for settings that hold per connection.
type pinned struct {
	*sql.Conn
	d *dialect
}

func (c *pinned) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.Conn.ExecContext(ctx, c.d.rebind(query), args...)
}

func (c *pinned) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.Conn.QueryRowContext(ctx, c.d.rebind(query), args...)
}

func (c *pinned) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{Tx: tx, d: c.d}, nil
}

// txn is a transaction whose queries are written in the store's portable SQL.
type txn struct {
	*sql.Tx
	d *dialect
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.rebind(query), args...)
}

func (t *txn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, t.d.rebind(query))
}
