package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Activity is something an operator did to the store: a decision, a refund,
// a sync.
type Activity struct {
	Operator string
	At       time.Time
	What     string // "dismissed grp_…", "refunded ch_…", "synced"
}

// Watcher tells an open dashboard what others did to a store several
// operators share. Activity returns a mark that changes with every decision,
// refund attempt or outcome and sync, by anyone, and the latest of them.
type Watcher interface {
	Activity(ctx context.Context) (mark string, latest Activity, err error)
}

// SyncElsewhere is a Syncer's error saying another operator's sync of the
// shared store is running: this one did not start, and is no failure.
type SyncElsewhere interface {
	error
	SyncElsewhere() bool
}

// activityPoll is how often the dashboard reads the Watcher's mark: others'
// work shows within that time, at the price of a few indexed reads.
const activityPoll = 2 * time.Second

type (
	activityTickMsg struct{}
	activityMsg     struct {
		mark   string
		latest Activity
		err    error
	}
)

func (m *Model) readActivity() tea.Cmd {
	w, ctx := m.deps.Watcher, m.ctx
	return func() tea.Msg {
		mark, latest, err := w.Activity(ctx)
		return activityMsg{mark: mark, latest: latest, err: err}
	}
}

// updateActivity reloads the groups when the mark moved, and says who did
// what when it was another operator. The first read only sets the mark. A
// failed read is retried at the next poll: the dashboard still works on
// what it has.
func (m Model) updateActivity(msg activityMsg) (Model, tea.Cmd) {
	next := m.after(activityPoll, activityTickMsg{})
	if msg.err != nil {
		return m, next
	}
	first, changed := m.activityMark == "", msg.mark != m.activityMark
	m.activityMark = msg.mark
	if first || !changed {
		return m, next
	}
	cmds := []tea.Cmd{next, m.reload()}
	if a := msg.latest; a.Operator != "" && a.Operator != m.cfg.Operator {
		m.header.SetActivity(a)
		cmds = append(cmds, m.show(flashMsg{level: levelInfo, text: activityText(a)}))
	}
	return m, tea.Batch(cmds...)
}

// activityText is an activity as one sentence: who, what, when (UTC, as the
// dashboard's times are).
func activityText(a Activity) string {
	return a.Operator + " " + a.What + " at " + a.At.UTC().Format("15:04:05") + " UTC"
}
