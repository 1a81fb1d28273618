package ui

import "testing"

// BenchmarkKeypress100k measures one `j` (Update) and the frame it produces
// (View) with 100k groups loaded; BenchmarkKeypress1k is the same with 1k, to
// show the cost does not depend on the number of groups.
func BenchmarkKeypress100k(b *testing.B) { benchmarkKeypress(b, 100_000) }

func BenchmarkKeypress1k(b *testing.B) { benchmarkKeypress(b, 1_000) }

func benchmarkKeypress(b *testing.B, groups int) {
	m := newHarness(manyGroups(groups)).start(b, testConfig())
	down := keyMsg("j")
	b.ReportAllocs()
	for b.Loop() {
		if m.table.cursor == len(m.table.rows)-1 {
			// Back to the top off the clock, so every timed `j` really moves.
			b.StopTimer()
			m = press(b, m, "g")
			b.StartTimer()
		}
		next, _ := m.Update(down)
		m = next.(Model)
		_ = m.View()
	}
	if m.table.cursor == 0 {
		b.Fatal("the cursor never moved")
	}
}

// BenchmarkFilterKeystroke100k is one character typed into the `/` filter with
// 100k groups: the filter runs over every group, so this one is O(n).
func BenchmarkFilterKeystroke100k(b *testing.B) {
	m := press(b, newHarness(manyGroups(100_000)).start(b, testConfig()), "/")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Type and erase a character in turn so every keystroke refilters.
		key := "1"
		if i%2 == 1 {
			key = "backspace"
		}
		m = press(b, m, key)
		_ = m.View()
	}
}
