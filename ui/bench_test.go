package ui

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkKeypress100k measures one `j` (Update) and the frame it produces
// (View) with 100k groups loaded; BenchmarkKeypress1k is the same with 1k, to
// show the cost does not depend on the number of groups.
func BenchmarkKeypress100k(b *testing.B) { benchmarkKeypress(b, 100_000) }

func BenchmarkKeypress1k(b *testing.B) { benchmarkKeypress(b, 1_000) }

func benchmarkKeypress(b *testing.B, groups int) {
	m := newHarness(manyGroups(groups)).start(b, testConfig())
	down := keyMsg("j")
	var cpu cpuMeter
	b.ReportAllocs()
	for b.Loop() {
		if m.table.cursor == len(m.table.rows)-1 {
			// Back to the top off the clock, so every timed `j` really moves.
			b.StopTimer()
			m = press(b, m, "g")
			b.StartTimer()
		}
		cpu.start(b)
		next, _ := m.Update(down)
		m = next.(Model)
		_ = m.View()
		cpu.stop(b)
	}
	cpu.report(b)
	if m.table.cursor == 0 {
		b.Fatal("the cursor never moved")
	}
}

// BenchmarkFilterKeystroke100k is one key typed into the `/` filter with 100k
// groups loaded, Update and the frame it produces:
//   - typing: the average keystroke of a query typed from its first character
//     ("cus_0123"; the first characters match every group and scan the whole
//     index, each next one narrows the previous result);
//   - first: a first character alone, which scans every group's search text;
//   - backspace: a backspace and the character typed again (both reuse a
//     cached result).
//
// Besides ns/op each reports cpu-ms/op, the process's CPU time per timed
// keystroke: the machine is shared, and wall time counts the waits for a core.
func BenchmarkFilterKeystroke100k(b *testing.B) {
	start := func(b *testing.B) Model {
		return press(b, newHarness(manyGroups(100_000)).start(b, testConfig()), "/")
	}
	b.Run("typing", func(b *testing.B) {
		m := start(b)
		const query = "cus_0123"
		var cpu cpuMeter
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i%len(query) == 0 && i > 0 {
				b.StopTimer()
				m = press(b, m, "esc", "/") // clear off the clock: the next query starts afresh
				b.StartTimer()
			}
			cpu.start(b)
			m = press(b, m, query[i%len(query):i%len(query)+1])
			_ = m.View()
			cpu.stop(b)
		}
		cpu.report(b)
		if q := m.filter.Query(); q == "" || !strings.HasPrefix(query, q) {
			b.Fatalf("the filter's query is %q, want a prefix of %q", q, query)
		}
	})
	b.Run("first", func(b *testing.B) {
		m := start(b)
		var cpu cpuMeter
		b.ReportAllocs()
		for b.Loop() {
			cpu.start(b)
			m = press(b, m, "7")
			_ = m.View()
			cpu.stop(b)
			b.StopTimer()
			m = press(b, m, "backspace")
			b.StartTimer()
		}
		cpu.report(b)
	})
	b.Run("backspace", func(b *testing.B) {
		m := typeText(b, start(b), "cus_012")
		var cpu cpuMeter
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			key := "backspace"
			if i%2 == 1 {
				key = "2"
			}
			cpu.start(b)
			m = press(b, m, key)
			_ = m.View()
			cpu.stop(b)
		}
		cpu.report(b)
	})
}

// cpuMeter adds up the process's CPU time over the timed parts of a benchmark.
type cpuMeter struct {
	total, since time.Duration
	ok           bool
}

func (c *cpuMeter) start(b *testing.B) { c.since, c.ok = processCPU(b) }

func (c *cpuMeter) stop(b *testing.B) {
	now, _ := processCPU(b)
	c.total += now - c.since
}

func (c *cpuMeter) report(b *testing.B) {
	if c.ok {
		b.ReportMetric(float64(c.total.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
