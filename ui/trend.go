package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// trendKeys open and drive the trend view.
type trendKeys struct{ Open, Close, Currency key.Binding }

func defaultTrendKeys() trendKeys {
	return trendKeys{
		Open:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "trend")),
		Close:    key.NewBinding(key.WithKeys("t", "esc", "q"), key.WithHelp("t/esc", "close trend")),
		Currency: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next currency")),
	}
}

// trendView charts the duplicates per day over the synced range, by cause,
// and per currency the money taken twice and how much of it was refunded, so
// an engineer can see a fix work: after it the bars stop. The charts are
// ntcharts bar charts (github.com/NimbleMarkets/ntcharts, a Bubble Tea
// charting component); the axes' labels are drawn here.
type trendView struct {
	styles   *Styles
	keys     trendKeys
	open     bool
	report   reconcile.Report
	trend    reconcile.Trend
	currency int // index into trend.Currencies
	width    int
	height   int
	view     string // rendered when something shown changes
}

func newTrendView(styles *Styles) trendView {
	v := trendView{styles: styles, keys: defaultTrendKeys()}
	v.SetEnabled(false)
	return v
}

// SetReport is the loaded report; the trend is computed while the view is
// open, not on every load.
func (v *trendView) SetReport(r reconcile.Report) {
	v.report = r
	if v.open {
		v.build()
	}
}

// SetEnabled turns t on while the operator browses and a report is loaded.
func (v *trendView) SetEnabled(browsing bool) {
	v.keys.Open.SetEnabled(browsing && !v.open)
	v.keys.Close.SetEnabled(v.open)
	v.keys.Currency.SetEnabled(v.open && len(v.trend.Currencies) > 1)
}

func (v *trendView) build() {
	v.trend = reconcile.BuildTrend(v.report)
	if v.currency >= len(v.trend.Currencies) {
		v.currency = 0
	}
	v.SetEnabled(false)
	v.view = v.render()
}

// IsOpen is whether the view fills the body and has the keys.
func (v *trendView) IsOpen() bool { return v.open }

// Wants is whether msg is t while browsing, or any key while open.
func (v *trendView) Wants(msg tea.KeyMsg) bool { return v.open || key.Matches(msg, v.keys.Open) }

func (v *trendView) SetSize(width, height int) {
	if width != v.width || height != v.height {
		v.width, v.height = width, height
		if v.open {
			v.view = v.render()
		}
	}
}

// Update opens and closes the view and switches the money chart's currency.
func (v trendView) Update(msg tea.Msg) (trendView, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return v, nil
	}
	switch {
	case key.Matches(km, v.keys.Open):
		v.open = true
		v.build()
	case key.Matches(km, v.keys.Close):
		v.open = false
		v.SetEnabled(true)
	case key.Matches(km, v.keys.Currency):
		v.currency = (v.currency + 1) % len(v.trend.Currencies)
		v.view = v.render()
	}
	return v, nil
}

func (v trendView) ShortHelp() []key.Binding {
	if v.open {
		return []key.Binding{v.keys.Currency, v.keys.Close}
	}
	return []key.Binding{v.keys.Open}
}

func (v trendView) FullHelp() [][]key.Binding {
	k := defaultTrendKeys()
	return [][]key.Binding{{k.Open}}
}

func (v trendView) View() string { return v.view }

// causeColors tell the causes apart in the stacked bars; the legend names
// them.
var causeColors = map[reconcile.Cause]lipgloss.AdaptiveColor{
	reconcile.CauseNoKey:           palette.bad,
	reconcile.CauseNewKeyPerRetry:  palette.warn,
	reconcile.CauseKeyReusedExpiry: {Light: "#8250DF", Dark: "#BC8CFF"},
	reconcile.CauseDoubleSubmit:    palette.accent,
	reconcile.CauseDoubleCheckout:  {Light: "#0E7490", Dark: "#39C5CF"},
	reconcile.CauseUnknown:         palette.muted,
}

// bar is one column of a chart: one or more days.
type bar struct {
	from   int // index of its first day
	values []barchart.BarValue
}

func (v *trendView) render() string {
	s := v.styles
	t := v.trend
	if len(t.Days) == 0 {
		return lipgloss.Place(v.width, v.height, lipgloss.Center, lipgloss.Center,
			s.Muted.Render("no charges stored yet: the trend needs a sync"))
	}
	first, last := t.Days[0].Day.Format("2006-01-02"), t.Days[len(t.Days)-1].Day.Format("2006-01-02")
	const text = 9 // the lines around the two charts
	chartH := max((v.height-text)/2, 3)
	// Too short for both: the groups get the room, and the money says where it is.
	both := v.height >= text+2*3
	if !both {
		chartH = max(v.height-5, 2)
	}

	causes := func(d reconcile.TrendDay) []barchart.BarValue {
		out := make([]barchart.BarValue, len(t.Causes))
		for i, c := range t.Causes {
			out[i] = barchart.BarValue{Name: string(c), Value: float64(d.Groups[c]), Style: lipgloss.NewStyle().Foreground(causeColors[c])}
		}
		return out
	}
	groupsChart, perBar := v.chart(chartH, causes, strconv.Itoa)
	var legend []string
	for _, c := range t.Causes {
		n := 0
		for _, d := range t.Days {
			n += d.Groups[c]
		}
		legend = append(legend, lipgloss.NewStyle().Foreground(causeColors[c]).Render("█")+" "+string(c)+" "+s.Bold.Render(strconv.Itoa(n)))
	}
	if len(legend) == 0 {
		legend = []string{s.Resolved.Render("no duplicates in the synced range")}
	}
	per := "1 bar = 1 day"
	if perBar > 1 {
		per = fmt.Sprintf("1 bar = %d days", perBar)
	}
	lines := []string{
		s.Bold.Render("Duplicate groups per day, by cause") + s.Muted.Render(fmt.Sprintf("  %s – %s UTC · %s", first, last, per)),
		strings.Join(legend, "   "),
	}
	lines = append(lines, groupsChart...)

	if !both {
		lines = append(lines, s.Muted.Render("(a taller terminal shows the money chart too)"))
	}
	if both && len(t.Currencies) > 0 {
		cur := t.Currencies[v.currency]
		money := func(d reconcile.TrendDay) []barchart.BarValue {
			refunded := min(d.Refunded[cur], d.TakenTwice[cur])
			return []barchart.BarValue{
				{Name: "refunded", Value: float64(refunded), Style: lipgloss.NewStyle().Foreground(palette.good)},
				{Name: "not refunded", Value: float64(d.TakenTwice[cur] - refunded), Style: lipgloss.NewStyle().Foreground(palette.bad)},
			}
		}
		moneyChart, _ := v.chart(chartH, money, func(n int) string { return reconcile.FormatMoney(int64(n), cur) })
		var taken, refunded int64
		for _, d := range t.Days {
			taken, refunded = taken+d.TakenTwice[cur], refunded+d.Refunded[cur]
		}
		title := s.Bold.Render("Money taken twice per day, " + strings.ToUpper(cur))
		if len(t.Currencies) > 1 {
			title += s.Muted.Render(fmt.Sprintf("  (%d of %d currencies: tab)", v.currency+1, len(t.Currencies)))
		}
		lines = append(lines, "", title,
			lipgloss.NewStyle().Foreground(palette.good).Render("█")+" refunded "+s.Bold.Render(reconcile.FormatMoney(refunded, cur))+"   "+
				lipgloss.NewStyle().Foreground(palette.bad).Render("█")+" not refunded "+s.Bold.Render(reconcile.FormatMoney(taken-refunded, cur))+
				s.Muted.Render("   (by the day the duplicate was charged)"))
		lines = append(lines, moneyChart...)
	}
	if both {
		lines = append(lines, "")
	}
	lines = append(lines, s.Muted.Render(v.recent()))
	for i := range lines {
		lines[i] = fit(lines[i], v.width)
	}
	return strings.Join(lines, "\n")
}

// recent compares the last seven days with the seven before: the number an
// engineer checks after shipping a fix.
func (v *trendView) recent() string {
	count := func(days []reconcile.TrendDay) int {
		n := 0
		for _, d := range days {
			for _, c := range d.Groups {
				n += c
			}
		}
		return n
	}
	days := v.trend.Days
	last := days[max(len(days)-7, 0):]
	before := days[max(len(days)-14, 0):max(len(days)-7, 0)]
	text := fmt.Sprintf("last 7 days: %s", reconcile.Plural(count(last), "group"))
	if len(before) > 0 {
		text += fmt.Sprintf(" · the %d days before: %d", len(before), count(before))
	}
	if v.trend.Dismissed > 0 {
		text += fmt.Sprintf(" · %s dismissed as legitimate, not counted", reconcile.Plural(v.trend.Dismissed, "group"))
	}
	return text
}

// chart draws one stacked bar per day (several days per bar when the range
// is wider than the screen) with the largest bar's value on the left and the
// first and last days below. It returns the lines and the days per bar.
func (v *trendView) chart(height int, values func(reconcile.TrendDay) []barchart.BarValue, label func(int) string) ([]string, int) {
	days := v.trend.Days
	var bars []bar
	top := 0.0
	gutterText := func(f float64) string { return label(int(f)) + " ┤" }
	// The gutter holds the largest value's label; its width is known only
	// once the bars are summed, which depends on the width left: twice at most.
	gutter := 4
	var perBar int
	for range 2 {
		width := max(v.width-gutter, 1)
		perBar = (len(days) + width - 1) / width
		bars, top = bars[:0], 0
		for from := 0; from < len(days); from += perBar {
			b := bar{from: from}
			for _, d := range days[from:min(from+perBar, len(days))] {
				vals := values(d)
				if b.values == nil {
					b.values = vals
					continue
				}
				for i := range vals {
					b.values[i].Value += vals[i].Value
				}
			}
			sum := 0.0
			for _, val := range b.values {
				sum += val.Value
			}
			top = max(top, sum)
			bars = append(bars, b)
		}
		if w := lipgloss.Width(gutterText(top)); w != gutter {
			gutter = w
			continue
		}
		break
	}
	width := max(v.width-gutter, len(bars))
	chart := barchart.New(width, height, barchart.WithNoAxis(), barchart.WithBarGap(0), barchart.WithMaxValue(max(top, 1)),
		barchart.WithNoAutoMaxValue())
	for _, b := range bars {
		chart.Push(barchart.BarData{Values: b.values})
	}
	chart.Draw()
	rows := strings.Split(chart.View(), "\n")
	s := v.styles
	pad := func(text string) string {
		return s.Muted.Render(strings.Repeat(" ", max(gutter-lipgloss.Width(text), 0)) + text)
	}
	out := make([]string, 0, len(rows)+1)
	for i, r := range rows {
		switch i {
		case 0:
			out = append(out, pad(gutterText(top))+r)
		case len(rows) - 1:
			out = append(out, pad(label(0)+" ┤")+r)
		default:
			out = append(out, pad("│")+r)
		}
	}
	firstDay, lastDay := days[0].Day.Format("01-02"), days[len(days)-1].Day.Format("01-02")
	axis := strings.Repeat(" ", gutter) + firstDay
	if room := min(len(bars)*chart.BarWidth(), width) - len(firstDay) - len(lastDay); room > 0 {
		axis += strings.Repeat(" ", room) + lastDay
	}
	return append(out, s.Muted.Render(axis)), perBar
}
