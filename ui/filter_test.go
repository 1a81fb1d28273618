package ui

import (
	"slices"
	"testing"
)

// TestFilterNarrowsLikeAFullScan: whatever was typed before (extending,
// backspacing, retyping, changing confidence or status), the filter lists
// exactly the groups a scan of every group would.
func TestFilterNarrowsLikeAFullScan(t *testing.T) {
	report := manyGroups(3000)
	report.Groups = append(report.Groups, fixtureReport().Groups...)
	report = withSummary(report.Groups)
	tests := []struct {
		name string
		keys []string
	}{
		{"typing", []string{"/", "c", "u", "s", "_", "0", "1", "2"}},
		{"backspace widens", []string{"/", "c", "u", "s", "_", "0", "1", "backspace", "backspace", "2"}},
		{"retyping after a miss", []string{"/", "0", "0", "0", "z", "backspace", "9"}},
		{"a query that is no extension", []string{"/", "1", "2", "backspace", "backspace", "3", "4"}},
		{"case and spaces", []string{"/", " ", "C", "H", "_", "0", "0", "1"}},
		{"confidence under a query", []string{"/", "c", "u", "s", "_", "0", "0", "enter", "f", "f"}},
		{"status under a query", []string{"/", "e", "x", "a", "m", "p", "l", "e", "enter", "s"}},
		{"every view under a query", []string{"/", "e", "x", "enter", "s", "s", "s", "s"}},
		{"esc clears", []string{"/", "c", "u", "s", "_", "7", "enter", "esc"}},
		{"sorted, then typing", []string{"S", "/", "c", "u", "s", "_", "0", "1"}},
		{"typing, then sorted", []string{"/", "c", "u", "s", "_", "0", "enter", "S", "S"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newHarness(report).start(t, testConfig())
			for i, k := range tt.keys {
				m = press(t, m, k)
				if got, want := listedIDs(m), scanned(m); !slices.Equal(got, want) {
					t.Fatalf("after %v: listed %d groups, a full scan %d", tt.keys[:i+1], len(got), len(want))
				}
			}
		})
	}
}

// scanned is what the filter lists, by brute force over every group.
func scanned(m Model) []string {
	ids := []string{}
	f := &m.filter
	for _, i := range f.Sort().permutation(m.report.Groups) {
		g := &m.report.Groups[i]
		if len(g.Charges) == 0 || !f.view.shows(g) ||
			g.Confidence.Rank() < confidenceSteps[f.confidence].min.Rank() || !g.Matches(f.Query()) {
			continue
		}
		ids = append(ids, g.ID)
	}
	return ids
}
