package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The tests below run this test binary again as a child process that uses the
// store, selected by helperEnv; TestHelperProcess is its entry point and does
// nothing in a normal run.
const (
	helperEnv      = "DOUBLECHECK_STORE_HELPER"
	helperPathEnv  = "DOUBLECHECK_STORE_HELPER_DB"
	helperWhoEnv   = "DOUBLECHECK_STORE_HELPER_WHO"
	helperStartEnv = "DOUBLECHECK_STORE_HELPER_START"
)

// Each crash-test batch is this many charges and key records plus the cursor.
const crashBatch = 200

func crashBatchData(n int) ([]reconcile.Charge, []reconcile.KeyRecord) {
	charges := fakeCharges(n*crashBatch, crashBatch, true)
	keys := make([]reconcile.KeyRecord, crashBatch)
	for i, c := range charges {
		charges[i].ID = fmt.Sprintf("ch_b%06d_%03d", n, i)
		keys[i] = reconcile.KeyRecord{Key: fmt.Sprintf("k_b%06d_%03d", n, i), ChargeID: c.ID, Sources: []string{"event"}}
	}
	return charges, keys
}

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(helperPathEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	switch mode {
	case "sync-forever":
		// Resume after the last committed batch and write batches until killed.
		cursor, err := s.State(ctx, "cursor")
		if err != nil {
			os.Exit(4)
		}
		next := 1
		if cursor != "" {
			last, _ := strconv.Atoi(cursor)
			next = last + 1
		}
		for n := next; ; n++ {
			charges, keys := crashBatchData(n)
			if err := s.SaveSyncBatch(ctx, charges, keys, reconcile.Observations{}, map[string]string{"cursor": strconv.Itoa(n)}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(5)
			}
			fmt.Fprintln(out, n)
			out.Flush()
		}
	case "import":
		// An import of importedBeforeKill charges and more, in runs of a
		// few records; "added" once the file is read and the merge and the
		// writes begin (when "import-writing" or "import-spilling", which
		// has so small a page cache that pages are written before the
		// commit), or while charges are still being added (when
		// "import-reading").
		importRunBytes = 16 << 10
		if os.Getenv(helperWhoEnv) == "import-spilling" {
			importCacheKiB = 256
		}
		err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
			for i := 0; ; i++ {
				c := fakeCharge(i, true)
				if err := imp.Add(c, reconcile.Place{File: "f.jsonl", Line: i + 1, Element: -1}, [16]byte{byte(i)}); err != nil {
					return err
				}
				if i == importedBeforeKill {
					fmt.Fprintln(out, "added")
					out.Flush()
					if os.Getenv(helperWhoEnv) != "import-reading" {
						return nil
					}
				}
			}
		})
		fmt.Fprintln(os.Stderr, "the import ended before the kill:", err)
		os.Exit(7)
	case "begin-refunds":
		who := os.Getenv(helperWhoEnv)
		start, _ := strconv.ParseInt(os.Getenv(helperStartEnv), 10, 64)
		time.Sleep(time.Until(time.Unix(0, start))) // both children begin together
		for i := range 100 {
			k := i
			if who == "process-b" { // the two meet in the middle and then collide on every key
				k = 99 - i
			}
			r, created, err := s.BeginRefund(ctx, intentFor(fmt.Sprintf("ch_%d", k), 100, who))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(6)
			}
			if created {
				fmt.Fprintln(out, r.Key)
			}
			// A real run sends a refund between intents; without a pause the
			// first process would hold the write lock for the whole loop.
			time.Sleep(time.Millisecond)
		}
		out.Flush()
		s.Close()
		os.Exit(0)
	}
	os.Exit(2)
}

func helperCommand(t *testing.T, mode, path, who string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path, helperWhoEnv+"="+who)
	cmd.Stderr = os.Stderr
	return cmd
}

// A sync killed with SIGKILL in the middle of writing leaves a store where every
// batch is whole or absent and the cursor names the last whole one; the next
// run resumes from it.
func TestKilledSyncLeavesWholeBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	for round := range 3 {
		cmd := helperCommand(t, "sync-forever", path, "")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		// Let it commit a few batches, then kill it while it writes the next.
		for range 3 + round {
			if !lines.Scan() {
				cmd.Wait()
				t.Fatalf("round %d: the child stopped early", round)
			}
		}
		time.Sleep(time.Duration(3+7*round) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		checkWholeBatches(t, path)
	}
}

func checkWholeBatches(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	var integrity string
	if err := s.reader.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	cursorText, err := s.State(ctx, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	cursor, err := strconv.Atoi(cursorText)
	if err != nil || cursor < 1 {
		t.Fatalf("cursor %q after the kill", cursorText)
	}
	counts := map[string]map[int]int{}
	for table, col := range map[string]string{"charges": "id", "charge_raw": "id", "key_records": "key"} {
		counts[table] = map[int]int{}
		rows, err := s.reader.Query(`SELECT ` + col + ` FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			_, rest, _ := strings.Cut(id, "_b")
			n, _ := strconv.Atoi(rest[:6])
			counts[table][n]++
		}
		rows.Close()
	}
	for table, perBatch := range counts {
		for n := 1; n <= cursor; n++ {
			if perBatch[n] != crashBatch {
				t.Errorf("%s: batch %d (cursor %d) has %d rows, want %d", table, n, cursor, perBatch[n], crashBatch)
			}
		}
		if len(perBatch) != cursor {
			t.Errorf("%s holds %d batches, the cursor says %d", table, len(perBatch), cursor)
		}
	}
}

// importedBeforeKill is how many charges the killed import adds before it
// says so.
const importedBeforeKill = 20000

// An import killed with SIGKILL while it reads the file, while it writes the
// charges, or once it wrote some of them into the store's files (through a
// rollback journal into a new store: see importJournal) leaves the store as
// it was (it opens, passes integrity_check, holds none of the import's
// charges, is back in WAL mode) and no scratch file in its directory.
func TestKilledImportLeavesNothing(t *testing.T) {
	for _, when := range []string{"import-reading", "import-writing", "import-spilling"} {
		t.Run(when, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "store.db")
			cmd := helperCommand(t, "import", path, when)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !bufio.NewScanner(stdout).Scan() {
				cmd.Wait()
				t.Fatal("the child stopped before adding its charges")
			}
			if when == "import-spilling" {
				waitForWrites(t, cmd, path)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			// A command that only reads cannot undo a write left in a
			// rollback journal, and must not read around it.
			ro, err := OpenReadOnly(context.Background(), path)
			if err == nil {
				if rows := countRows(t, ro); rows["charges"] != 0 || rows["charge_raw"] != 0 {
					t.Errorf("read-only, a killed import shows %v", rows)
				}
				ro.Close()
			}
			if (err != nil || when == "import-spilling") && (err == nil || !strings.Contains(err.Error(), "a write into it was interrupted")) {
				t.Errorf("read-only open after the kill: %v; want it told to undo the interrupted write", err)
			}
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatalf("reopen after the kill: %v", err)
			}
			defer s.Close()
			var integrity, journal string
			if err := s.reader.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
				t.Fatalf("integrity_check = %q, %v", integrity, err)
			}
			if rows := countRows(t, s); rows["charges"] != 0 || rows["charge_raw"] != 0 {
				t.Errorf("a killed import left %v", rows)
			}
			if err := s.reader.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
				t.Errorf("journal mode after the kill and an open: %q, %v; want wal", journal, err)
			}
			left, err := filepath.Glob(filepath.Join(dir, ".doublecheck-import-*"))
			if err != nil || len(left) > 0 {
				t.Errorf("a killed import left %v (%v) beside the store", left, err)
			}
		})
	}
}

// waitForWrites waits until the store at path, with its journal or log, has
// grown by a megabyte: the import running in cmd has written pages of its
// charges before committing.
func waitForWrites(t *testing.T, cmd *exec.Cmd, path string) {
	t.Helper()
	size := func() int64 {
		var n int64
		for _, p := range []string{path, path + "-journal", path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	start := size()
	for deadline := time.Now().Add(time.Minute); size() < start+1<<20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the import wrote nothing into the store's files in a minute")
		}
	}
}

// Two processes beginning the same refunds at once: each intent is created by
// exactly one of them.
func TestBeginRefundRaceBetweenProcesses(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		path := d.location(t)
		s, err := Open(context.Background(), path) // create the schema before the race
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var cmds []*exec.Cmd
		var outputs []*strings.Builder
		start := time.Now().Add(500 * time.Millisecond).UnixNano()
		for _, who := range []string{"process-a", "process-b"} {
			cmd := helperCommand(t, "begin-refunds", path, who)
			cmd.Env = append(cmd.Env, helperStartEnv+"="+strconv.FormatInt(start, 10))
			out := &strings.Builder{}
			cmd.Stdout = out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, outputs = append(cmds, cmd), append(outputs, out)
		}
		created := map[string]int{}
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child %d: %v", i, err)
			}
			won := strings.Fields(outputs[i].String())
			for _, key := range won {
				created[key]++
			}
			t.Logf("child %d created %d intents", i, len(won))
		}
		in, err := s.LoadInput(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Refunds) != 100 || len(created) != 100 {
			t.Errorf("%d intents stored, %d keys reported created; want 100 of each", len(in.Refunds), len(created))
		}
		for key, n := range created {
			if n != 1 {
				t.Errorf("key %s created %d times", key, n)
			}
		}
	})
}

// LoadInput during a sync sees every batch whole or not at all: charges, their
// key records and the cursor come from one snapshot.
func TestLoadInputDuringSyncSeesWholeBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		done := make(chan error, 1)
		go func() {
			for n := 1; n <= 30; n++ {
				charges, keys := crashBatchData(n)
				if err := s.SaveSyncBatch(ctx, charges, keys, reconcile.Observations{}, map[string]string{"cursor": strconv.Itoa(n)}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for loads := 0; ; loads++ {
			in, err := s.LoadInput(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Charges)%crashBatch != 0 || len(in.Keys) != len(in.Charges) {
				t.Fatalf("load %d saw %d charges and %d key records: a batch was cut", loads, len(in.Charges), len(in.Keys))
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				if in, _ = s.LoadInput(ctx); len(in.Charges) != 30*crashBatch {
					t.Errorf("after the sync: %d charges, want %d", len(in.Charges), 30*crashBatch)
				}
				t.Logf("%d loads while syncing", loads+1)
				return
			default:
			}
		}
	})
}
