package admin

import (
	"strconv"
)

// Charts of the dashboard: bar charts drawn on the server as inline SVG
// (no script; the CSP allows inline SVG markup and styles come from
// admin.css classes), each with the same numbers in a table for people
// who do not see the picture.

// Geometry of a chart, in SVG user units (the SVG scales to the page).
const (
	chartW, chartH     = 720, 220
	chartLeft          = 44 // room for the scale
	chartTop, chartBot = 10, 30
	maxSeries          = 6 // classes s0..s5 in admin.css
)

// chart is one hourly chart: a bar per hour, stacked by series.
type chart struct {
	ID      string   // element id prefix
	Title   string   // translated; the SVG's title and the table's caption
	Summary string   // translated: what the picture says, in words (aria-label)
	Hours   []string // the buckets' labels, "21:00", oldest first
	Series  []series
	// Drawn by draw:
	W, H   int
	Bars   []bar
	Ticks  []tick // the scale
	Labels []tick // hours under the axis
	AxisY  int
	Rows   []chartRow // the table: one row per hour
}

type series struct {
	Name   string
	Class  string // s0.. in admin.css
	Counts []int64
	Total  int64
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string // "21:00 · Mật khẩu: 3"
}

type tick struct {
	X, Y  int
	Label string
}

type chartRow struct {
	Hour   string
	Counts []int64
}

// newChart makes a chart of hours with the series named, in order.
func newChart(id, title string, hours []string, names []string) *chart {
	c := &chart{ID: id, Title: title, Hours: hours}
	for i, n := range names {
		c.Series = append(c.Series, series{Name: n, Class: "s" + strconv.Itoa(i%maxSeries), Counts: make([]int64, len(hours))})
	}
	return c
}

// add counts n for series s in hour h.
func (c *chart) add(s, h int, n int64) {
	c.Series[s].Counts[h] += n
	c.Series[s].Total += n
}

// draw lays the bars, scale and labels out and fills the table.
func (c *chart) draw() {
	c.W, c.H = chartW, chartH
	c.AxisY = chartH - chartBot
	n := len(c.Hours)
	if n == 0 {
		return
	}
	var top int64
	for h := range n {
		var sum int64
		for _, s := range c.Series {
			sum += s.Counts[h]
		}
		top = max(top, sum)
	}
	scale := niceMax(top)
	plotH := c.AxisY - chartTop
	slot := (chartW - chartLeft) / n
	barW := max(slot*2/3, 1)
	for h := range n {
		x := chartLeft + h*slot + (slot-barW)/2
		y := c.AxisY
		row := chartRow{Hour: c.Hours[h]}
		for _, s := range c.Series {
			v := s.Counts[h]
			row.Counts = append(row.Counts, v)
			if v == 0 {
				continue
			}
			bh := max(int(v*int64(plotH)/scale), 1)
			y -= bh
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: barW, H: bh, Class: s.Class,
				Title: c.Hours[h] + " · " + s.Name + ": " + strconv.FormatInt(v, 10)})
		}
		c.Rows = append(c.Rows, row)
		if h%3 == 0 {
			c.Labels = append(c.Labels, tick{X: x + barW/2, Y: c.AxisY + 16, Label: c.Hours[h]})
		}
	}
	for _, v := range []int64{0, scale / 2, scale} {
		c.Ticks = append(c.Ticks, tick{X: chartLeft - 6, Y: c.AxisY - int(v*int64(plotH)/scale), Label: strconv.FormatInt(v, 10)})
	}
}

// niceMax is the top of the scale: at least top, a round number.
func niceMax(top int64) int64 {
	if top <= 4 {
		return 4
	}
	step := int64(1)
	for step*10 < top {
		step *= 10
	}
	for _, m := range []int64{1, 2, 4, 5, 10} {
		if step*m >= top && (step*m)%2 == 0 {
			return step * m
		}
	}
	return step * 10
}
