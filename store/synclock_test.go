package store

import (
	"context"
	"errors"
	"testing"
)

// On a shared store one sync runs at a time: a second, from another process,
// is told who runs the first; once it ends, the next may start.
func TestOneSyncAtATimeOnASharedStore(t *testing.T) {
	ctx := context.Background()
	url := testDialects[1].location(t)
	ann, bob := openAt(t, url), openAt(t, url)
	end, err := ann.BeginSync(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	var running *SyncRunningError
	if _, err := bob.BeginSync(ctx, "bob"); !errors.As(err, &running) || running.Operator != "ann" || running.Since.IsZero() {
		t.Fatalf("bob's sync while ann's runs: %v, want one naming ann and her start", err)
	}
	end()
	endBob, err := bob.BeginSync(ctx, "bob")
	if err != nil {
		t.Fatalf("bob's sync after ann's ended: %v", err)
	}
	endBob()
	// A sync whose process died (its connection closed) holds nothing.
	if _, err := ann.BeginSync(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	ann.Close()
	if end, err := bob.BeginSync(ctx, "bob"); err != nil {
		t.Errorf("bob's sync after ann's store closed: %v", err)
	} else {
		end()
	}
}

// An SQLite store takes no sync lock: its file's write lock keeps batches whole.
func TestSQLiteSyncsTakeNoLock(t *testing.T) {
	s := openTemp(t)
	end, err := s.BeginSync(context.Background(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	if end2, err := s.BeginSync(context.Background(), "bob"); err != nil {
		t.Errorf("second sync on SQLite: %v", err)
	} else {
		end2()
	}
}
