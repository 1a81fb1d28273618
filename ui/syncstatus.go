package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// syncKeys are the sync's own keys.
type syncKeys struct{ Sync key.Binding }

func defaultSyncKeys() syncKeys {
	return syncKeys{Sync: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "sync now"))}
}

// syncRequestedMsg is the operator asking for a sync now (R); the root runs it
// through its Syncer.
type syncRequestedMsg struct{}

// syncProgressMsg is how far the running sync is; events delivers the next
// message of the sync.
type syncProgressMsg struct {
	progress SyncProgress
	events   <-chan tea.Msg
}

// syncStatus is the state of syncing with the account: whether there is one to
// sync, whether a sync runs, when the last good one finished and whether the
// latest failed. Its view is the header's freshness line.
type syncStatus struct {
	keys     syncKeys
	canSync  bool          // there is an account (a Syncer)
	offWhy   string        // why sync is off, when it is (Config.SyncOff)
	watch    time.Duration // background sync interval; 0 for none
	now      func() time.Time
	syncing  bool
	progress SyncProgress // of the running sync
	lastSync time.Time    // zero when never synced
	err      error        // the latest sync's failure, nil after a success
}

func newSyncStatus(cfg Config, canSync bool) syncStatus {
	s := syncStatus{keys: defaultSyncKeys(), canSync: canSync, offWhy: orText(cfg.SyncOff, "no account"), watch: cfg.Watch, now: cfg.Now, lastSync: cfg.LastSync}
	s.updateKeys()
	return s
}

// Begin marks a sync as started; false when there is nothing to sync or one
// already runs.
func (s *syncStatus) Begin() bool {
	if !s.canSync || s.syncing {
		return false
	}
	s.syncing, s.progress = true, SyncProgress{}
	s.updateKeys()
	return true
}

// Activity is the running sync's line for the status bar, with the figures
// `doublecheck sync` shows: charges so far, share, rate and time left.
func (s *syncStatus) Activity() string {
	p := s.progress
	if p.Charges == 0 {
		return "syncing…"
	}
	parts := []string{"syncing: " + reconcile.Plural(p.Charges, "charge") + " so far"}
	if p.Fraction > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%%", 100*p.Fraction))
	}
	if p.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%.0f charges/s", p.Rate))
	}
	if p.ETA > 0 {
		parts = append(parts, "ETA "+p.ETA.Round(time.Second).String())
	}
	return strings.Join(parts, " · ")
}

// Syncing is whether a sync runs.
func (s *syncStatus) Syncing() bool { return s.syncing }

// NeverSynced is whether there is an account that was never synced yet.
func (s *syncStatus) NeverSynced() bool { return s.canSync && s.lastSync.IsZero() }

// Failed is whether the latest sync failed.
func (s *syncStatus) Failed() bool { return s.err != nil }

// Wants is whether msg is the sync's live key.
func (s *syncStatus) Wants(msg tea.KeyMsg) bool { return key.Matches(msg, s.keys.Sync) }

// Update turns R into a request and records a finished sync, flashing what
// it brought (a background sync stays quiet unless it fails).
func (s syncStatus) Update(msg tea.Msg) (syncStatus, tea.Cmd) {
	cmd := s.update(msg)
	s.updateKeys()
	return s, cmd
}

func (s *syncStatus) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if key.Matches(msg, s.keys.Sync) {
			return func() tea.Msg { return syncRequestedMsg{} }
		}
	case syncProgressMsg:
		s.progress = msg.progress
	case syncDoneMsg:
		s.syncing = false
		var elsewhere SyncElsewhere
		if errors.As(msg.err, &elsewhere) && elsewhere.SyncElsewhere() {
			// Not a failure: another operator's sync brings the same charges.
			return flashKindCmd(levelInfo, flashRoutine, msg.err.Error())
		}
		if msg.err != nil {
			s.err = msg.err
			retry := "press R to retry"
			if s.watch > 0 {
				retry = "retrying in " + s.watch.String()
			}
			// A background sync's failure is routine: the header says it too.
			kind := flashNormal
			if msg.watch {
				kind = flashRoutine
			}
			return flashKindCmd(levelError, kind, fmt.Sprintf("sync failed: %v; showing stored data, %s", msg.err, retry))
		}
		s.err, s.lastSync = nil, msg.at
		if !msg.watch {
			text := fmt.Sprintf("synced: %s updated", reconcile.Plural(msg.result.Charges, "charge"))
			if msg.result.Note != "" {
				text += "; " + msg.result.Note
			}
			return flashKindCmd(levelInfo, flashRoutine, text)
		}
	}
	return nil
}

func (s *syncStatus) updateKeys() { s.keys.Sync.SetEnabled(s.canSync && !s.syncing) }

// ShortHelp is R while it can sync.
func (s syncStatus) ShortHelp() []key.Binding { return []key.Binding{s.keys.Sync} }

// FullHelp is R whenever there is an account, running sync or not.
func (s syncStatus) FullHelp() [][]key.Binding {
	k := defaultSyncKeys()
	k.Sync.SetEnabled(s.canSync)
	return [][]key.Binding{{k.Sync}}
}

// View is how fresh the data is, for the header. The last good sync stays in
// view while a sync runs or after one failed: how fresh the data is matters
// most when syncing is in trouble.
func (s syncStatus) View() string {
	if !s.canSync {
		return "sync off: " + s.offWhy
	}
	fresh := "never synced"
	if !s.lastSync.IsZero() {
		age := "just now"
		if d := s.now().Sub(s.lastSync); d >= time.Minute {
			age = reconcile.HumanDuration(d) + " ago"
		}
		fresh = "synced " + s.lastSync.Local().Format("15:04:05") + " (" + age + ")"
	}
	switch {
	case s.syncing:
		return fresh + " · syncing…"
	case s.err != nil:
		return fresh + " · last sync failed"
	case s.watch > 0 && !s.lastSync.IsZero():
		return fresh + " · every " + s.watch.String()
	}
	return fresh
}
