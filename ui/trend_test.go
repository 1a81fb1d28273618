package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// trendReport is four weeks of duplicates: no-key ones every day until a fix
// on day 20, a few double submits throughout, some refunded, in two
// currencies.
func trendReport() reconcile.Report {
	var groups []reconcile.Group
	for day := range 28 {
		at := time.Duration(day-27) * 24 * time.Hour
		n := 3
		if day >= 20 {
			n = 0 // the fix shipped
		}
		for i := range n {
			id := fmt.Sprintf("ch_%d_%d", day, i)
			g := group("grp_"+id, reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_"+id, []string{"no key"},
				charge(id+"a", at, 4999, "usd", reconcile.Keep), charge(id+"b", at+time.Minute, 4999, "usd", reconcile.Duplicate))
			if day < 10 {
				g.Status, g.Charges[1].AmountRefunded = reconcile.Resolved, 4999
			}
			groups = append(groups, g)
		}
		if day%4 == 3 {
			id := fmt.Sprintf("ch_%d_ds", day)
			groups = append(groups, group("grp_"+id, reconcile.Medium, reconcile.Open, reconcile.CauseDoubleSubmit, "card visa …4242", []string{"double submit"},
				charge(id+"a", at, 1500, "eur", reconcile.Keep), charge(id+"b", at+4*time.Second, 1500, "eur", reconcile.Duplicate)))
		}
	}
	return withSummary(groups)
}

func TestTrendView(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []string // on screen
		gone []string // not on screen
	}{
		{name: "t opens the trend", keys: []string{"t"}, want: []string{
			"Duplicate groups per day, by cause", "no_key 60", "double_submit 7", "Money taken twice per day, USD",
			"refunded 1499.70 USD", "not refunded 1499.70 USD", "last 7 days: 2 groups · the 7 days before: 20", "1 of 2 currencies"}},
		{name: "tab shows the next currency", keys: []string{"t", "tab"}, want: []string{"Money taken twice per day, EUR", "not refunded 105.00 EUR"}},
		{name: "t closes it", keys: []string{"t", "t"}, want: []string{"IDENTITY"}, gone: []string{"Duplicate groups per day"}},
		{name: "esc closes it", keys: []string{"t", "esc"}, want: []string{"IDENTITY"}, gone: []string{"Duplicate groups per day"}},
		{name: "q closes it, and does not quit", keys: []string{"t", "q"}, want: []string{"IDENTITY"}},
		{name: "t in the filter is typed", keys: []string{"/", "t"}, want: []string{"IDENTITY"}, gone: []string{"Duplicate groups per day"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(trendReport())
			m := press(t, h.start(t, testConfig()), tt.keys...)
			screen := ansi.Strip(m.View())
			for _, w := range tt.want {
				if !strings.Contains(screen, w) {
					t.Errorf("the screen does not show %q:\n%s", w, screen)
				}
			}
			for _, g := range tt.gone {
				if strings.Contains(screen, g) {
					t.Errorf("the screen still shows %q", g)
				}
			}
		})
	}
}
