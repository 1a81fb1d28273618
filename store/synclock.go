package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// States the running sync of a shared store records, for the others to name
// it: who runs it, and since when (Unix nanoseconds).
const (
	stateSyncOperator = "doublecheck.sync.operator"
	stateSyncStarted  = "doublecheck.sync.started"
)

// SyncRunningError is a sync refused because another process is syncing the
// same shared store: its data lands there as it is fetched, so this one is
// not needed.
type SyncRunningError struct {
	Operator string
	Since    time.Time // zero when not recorded
}

func (e *SyncRunningError) Error() string {
	who := "another operator"
	if e.Operator != "" {
		who = e.Operator
	}
	since := ""
	if !e.Since.IsZero() {
		since = " since " + e.Since.UTC().Format("15:04:05 UTC")
	}
	return "sync running by " + who + since + "; not starting another: its charges reach this store as they are fetched"
}

// SyncElsewhere says the sync did not start because another one runs (the
// dashboard's ui.SyncElsewhere): no failure.
func (e *SyncRunningError) SyncElsewhere() bool { return true }

// BeginSync makes this process the one syncing the store, for operator, until
// end is called (or the process ends). On a PostgreSQL store that is a
// session advisory lock (pg_try_advisory_lock), which the server drops with
// the connection if the process dies; a second sync gets a
// *SyncRunningError naming the first. An SQLite store is one operator's file,
// whose write lock already keeps each sync batch whole: BeginSync takes
// nothing there.
func (s *Store) BeginSync(ctx context.Context, operator string) (end func(), err error) {
	if s.readOnly {
		return nil, s.refuseWrite()
	}
	if !s.d.postgres {
		return func() {}, nil
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sync lock on %s: %w", s.path, err)
	}
	// The key is the store's schema: stores in other schemas of the same
	// database sync on their own.
	const lockKey = `hashtext(current_schema() || '.doublecheck-sync')`
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`).Scan(&locked); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sync lock on %s: %w", s.path, err)
	}
	if !locked {
		conn.Close()
		running := &SyncRunningError{}
		if running.Operator, err = s.State(ctx, stateSyncOperator); err != nil {
			return nil, err
		}
		started, err := s.State(ctx, stateSyncStarted)
		if err != nil {
			return nil, err
		}
		if ns, perr := strconv.ParseInt(started, 10, 64); perr == nil {
			running.Since = decodeTime(ns)
		}
		return nil, running
	}
	var once sync.Once
	unlock := func() {
		once.Do(func() {
			// Others' dashboards reload when a sync ends (see Activity).
			s.SetState(context.WithoutCancel(ctx), stateSyncEnded, strconv.FormatInt(s.clock().UnixNano(), 10))
			conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`)
			conn.Close()
		})
	}
	s.syncMu.Lock()
	s.syncEnds = append(s.syncEnds, unlock)
	s.syncMu.Unlock()
	err = errors.Join(s.SetState(ctx, stateSyncOperator, operator),
		s.SetState(ctx, stateSyncStarted, strconv.FormatInt(s.clock().UnixNano(), 10)))
	if err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// endSyncs releases the sync locks of this Store that were not released yet.
func (s *Store) endSyncs() {
	s.syncMu.Lock()
	ends := s.syncEnds
	s.syncEnds = nil
	s.syncMu.Unlock()
	for _, end := range ends {
		end()
	}
}
