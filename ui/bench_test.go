package ui

import "testing"

// BenchmarkKeypress100k measures one `j` (Update) and the frame it produces
// (View) with 100k groups loaded: the cost must not depend on the group count.
func BenchmarkKeypress100k(b *testing.B) {
	m := newHarness(manyGroups(100_000)).start(b, testConfig())
	down := keyMsg("j")
	b.ReportAllocs()
	for b.Loop() {
		next, _ := m.Update(down)
		m = next.(Model)
		_ = m.View()
	}
	if m.table.cursor == 0 {
		b.Fatal("the cursor never moved")
	}
}
